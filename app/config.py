"""All configuration in one place: `TUTOR_*` environment variables or a `.env` file.

Build a `Settings` once at the edge (CLI command, API lifespan) and pass it in; code deeper
down never reads the environment itself, so tests can hand it whatever they need.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic import SecretStr
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from pydantic_settings import SettingsConfigDict

Provider = Literal["local", "openai", "hf"]


def private_dir(path: Path) -> Path:
    """`path` as a folder only this user may enter (0700), created with its parents when
    missing, and tightened when it exists and is ours. The data dir holds every learner's
    journal and answers: code checked in the sandbox runs as another user (`nobody`), and a
    world-readable data dir was how a learner's file read another's journal (case 14)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.geteuid() and info.st_mode & 0o077:
        path.chmod(info.st_mode & 0o700)
    return path


def cache_home() -> Path:
    """$XDG_CACHE_HOME, or ~/.cache: where the wheelhouse and the encoder's export live."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def private_file(path: Path) -> Path:
    """`path` as a file only this user may read or write (0600), created empty when missing.
    SQLite gives its -wal and -shm files the database file's mode."""
    path.touch(mode=0o600, exist_ok=True)
    if path.stat().st_uid == os.geteuid():
        path.chmod(0o600)
    return path


ENV_PREFIX = "TUTOR_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("data"), description="Index, database and clones live here."
    )

    # -- model -------------------------------------------------------------------------------
    llm_provider: Provider = Field(
        default="local",
        description="local: SmolLM2 GGUF in process; openai: any OpenAI-compatible server; "
        "hf: a local transformers model directory.",
    )
    llm_model_path: Path | None = Field(
        default=None,
        description="GGUF file for the local provider (default: the packaged SmolLM2).",
    )
    openai_base_url: str = Field(
        default="", description="e.g. http://localhost:11434/v1 for Ollama."
    )
    openai_api_key: SecretStr = Field(default=SecretStr("not-needed"))
    openai_model: str = Field(default="", description="Model name the server knows.")
    hf_model_path: Path | None = Field(
        default=None, description="Directory of a transformers model."
    )
    llm_temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    llm_seed: int = Field(
        default=0,
        description="The local model's sampling seed; -1 = random. "
        "Fixed so an eval run reproduces.",
    )
    llm_max_tokens: int = Field(default=320, ge=16, le=4096)
    llm_context_tokens: int = Field(default=2048, ge=512)
    llm_timeout_s: float = Field(default=120.0, gt=0)
    # The prompt budget. Small by default: the local model reads ~420 prompt tokens/s on two
    # cores, so 3 passages of ~350 characters keep the first token under a second. Raise both
    # for an API model (e.g. 6 and 1500).
    # Follow-ups: the 135M model, asked to rewrite "why does it help?" as a standalone question,
    # mostly repeats the earlier question and loses the follow-up (evals: 1 of 16 kept it;
    # retrieval hit@3 94% vs 100% for the two questions joined). So by default the two are
    # joined, with no model call; turn this on for an API model that condenses well.
    condense_with_model: bool = False
    # Who writes an answer's sentences: the sources (their own sentences, chosen and ordered for
    # the question) or the model (its prose, each sentence kept only where a passage supports
    # it). auto: the sources with the packaged 135M model, whose facts can't be trusted; the
    # model with an API or transformers model.
    answer_writer: Literal["auto", "sources", "model"] = "auto"
    context_passages: int = Field(default=3, ge=1, le=12)
    passage_chars: int = Field(default=350, ge=200, le=4000)

    # -- retrieval store -----------------------------------------------------------------------
    embedding_model: str = Field(
        default="",
        description="A local sentence-transformers path (default: packaged all-MiniLM-L6-v2).",
    )
    encoder_engine: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="What runs the embedding model for search, answers and quizzes: its ONNX "
        "export (no torch import: cold commands start in about a second) or torch. Ingest "
        "embeds documents with the export's int8 graph (see TUTOR_ENCODER_PRECISION).",
    )
    encoder_precision: Literal["auto", "fp32"] = Field(
        default="auto",
        description="What ingest's encoder computes in. auto: documents on the export's int8 "
        "graph (about 1.8x fp32's chunks per second, no torch; retrieval within 0.002 MRR@10 of "
        "fp32 documents; queries stay fp32), where it passed its check; else torch as fp32 does, "
        "in bfloat16 where the CPU multiplies it natively (AMX or AVX512-BF16). fp32: torch in "
        "fp32, loaded once 1,000 new chunks have come (the export before that).",
    )
    encoder_cache_dir: Path = Field(
        default_factory=lambda: cache_home() / "study-tutor" / "encoders",
        description="Where the embedding model's checked ONNX export is kept (made once per "
        "model, by `make install` or at first use); beside the wheelhouse by default.",
    )
    chroma_url: str = Field(
        default="", description="Chroma server URL; empty = embedded in data_dir."
    )
    collection: str = Field(default="study_tutor")
    ingest_max_file_mb: float = Field(default=20.0, gt=0, description="Larger files are skipped.")
    ingest_nice: int = Field(
        default=5,
        ge=0,
        le=19,
        description="How much lower than the API's answers an ingest run inside the API runs "
        "(nice levels, Linux): on a busy machine search and answers get the cores first.",
    )

    # -- learners ------------------------------------------------------------------------------
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in data_dir.")
    anonymous_conversation_hours: int = Field(
        default=24,
        ge=1,
        description="How long the API remembers a conversation asked without "
        "a token (for its follow-ups).",
    )

    # -- evals -------------------------------------------------------------------------------
    eval_reports_dir: Path = Field(
        default=Path(__file__).resolve().parents[1] / "evals" / "reports",
        description="Where `tutor eval` writes <run>/report.json and the UI's Evals tab reads "
        "it (default: the project's evals/reports, wherever either is started from).",
    )
    judge_base_url: str = Field(
        default="",
        description="An OpenAI-compatible server for LLM-judged evals; empty = offline judges.",
    )
    judge_api_key: SecretStr = Field(default=SecretStr("not-needed"))
    judge_model: str = Field(default="", description="The judge model's name on that server.")

    # -- service -------------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    ui_port: int = 8501
    api_url: str = Field(
        default="", description="Where the UI finds the API; empty = api_host:api_port."
    )
    # One model answers one question at a time; the others wait their turn in order. A bounded
    # queue and a bounded wait keep a crowd from piling up requests nobody will wait for.
    model_queue_size: int = Field(
        default=8,
        ge=0,
        description="Questions that may wait for the "
        "model behind the one it is answering; more get 503.",
    )
    model_wait_s: float = Field(
        default=60.0,
        gt=0,
        description="Longest wait for the model's turn before a 503 with Retry-After.",
    )
    allowed_hosts: list[str] = Field(
        default=["localhost", "127.0.0.1", "::1"],
        description='Host names the API answers to, as JSON (["tutor.example.org"]); "*" = any.',
    )
    ingest_roots: list[Path] = Field(
        default=[],
        description="Folders POST /ingest may read besides the bundled corpus, as "
        'JSON (["/srv/notes"]).',
    )
    asks_per_minute: int = Field(
        default=60,
        ge=0,
        description="Questions per client address per minute (0 = no limit); more get 429.",
    )
    signups_per_hour: int = Field(
        default=30,
        ge=0,
        description="Learners created per client address per hour (0 = no limit); more get 429.",
    )
    max_body_kb: int = Field(default=256, ge=1, description="Larger request bodies get 413 unread.")
    max_upload_mb: int = Field(
        default=64,
        ge=1,
        description="The size limit of an uploaded file (an Anki package to import), in MB; "
        "larger get 413 unread.",
    )
    max_header_kb: int = Field(
        default=16,
        ge=1,
        description="A request line and headers larger than this get 400, and the connection "
        "is closed.",
    )
    shutdown_grace_s: int = Field(
        default=2,
        ge=0,
        description="On SIGTERM, how long answers in progress may go on before they are cut off.",
    )
    check_sandbox: Literal["auto", "bwrap", "unshare", "rlimits"] = Field(
        default="auto",
        description="How `tutor check` contains the learner's code: bubblewrap "
        "namespaces, util-linux unshare (network namespace), or resource limits only; auto "
        "takes the strongest that works here.",
    )
    check_cpu_s: int = Field(
        default=20,
        ge=1,
        description="CPU seconds a checked file may use "
        "in all (an infinite loop is stopped there).",
    )
    check_call_s: float = Field(
        default=10.0, gt=0, description="Wall seconds one call of the learner's function may take."
    )
    check_memory_mb: int = Field(
        default=1024,
        ge=256,
        description="Address space of a checked file's process (NumPy included), in MiB.",
    )
    check_total_s: float = Field(
        default=90.0,
        gt=0,
        description="Longest a whole check may take, every call together (a file that sleeps "
        "in each call would otherwise hold a check slot for many minutes).",
    )
    checks_at_once: int = Field(
        default=2,
        ge=1,
        description="Code checks the API runs at once; one more waits up to check_call_s, "
        "then gets 503 with Retry-After.",
    )
    checks_per_minute: int = Field(
        default=10,
        ge=0,
        description="Code checks per learner (or, on this machine, per address) per minute "
        "(0 = no limit); more get 429.",
    )
    check_examples: int = Field(
        default=25,
        ge=1,
        description="Random inputs per property of "
        "a check (Hypothesis examples; failures are then shrunk).",
    )

    @property
    def resolved_answer_writer(self) -> Literal["sources", "model"]:
        if self.answer_writer != "auto":
            return self.answer_writer
        return "sources" if self.llm_provider == "local" else "model"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL of the learner database. A plain `postgresql://` (or Heroku's
        `postgres://`) URL gets the psycopg 3 driver we install: SQLAlchemy would otherwise
        look for psycopg2."""
        if not self.database_url:
            return f"sqlite:///{(self.data_dir / 'tutor.db').resolve()}"
        scheme, _, rest = self.database_url.partition("://")
        return (
            f"postgresql+psycopg://{rest}"
            if scheme in ("postgresql", "postgres")
            else self.database_url
        )

    @property
    def resolved_api_url(self) -> str:
        return self.api_url or f"http://{self.api_host}:{self.api_port}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; a FastAPI dependency that tests override."""
    return Settings()


def settings_problem(exc: ValidationError) -> str:
    """What is wrong with the `TUTOR_*` settings a `Settings()` refused, one line per value,
    named as the learner set it (`TUTOR_ENCODER_PRECISION='bf16': Input should be 'auto' or
    'fp32'`), not as pydantic's field (`encoder_precision`)."""
    problems = [
        f"{ENV_PREFIX}{'_'.join(str(part) for part in error['loc']).upper()}="
        f"{error.get('input')!r}: {error['msg']}"
        for error in exc.errors()
    ]
    return "; ".join(problems) + " (fix it in the environment or .env, or unset it for the default)"
