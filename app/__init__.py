"""Study Tutor: an offline-first tutor for an 18-month AI/ML learning plan."""

import os

# Offline by default: models come from installed packages, never from a hub, and no library
# phones home. A user who wants the network can set these variables themselves.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)
