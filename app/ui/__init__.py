"""The Streamlit web UI; `main.py` is the script Streamlit runs (see app/cli/launcher.py)."""
