"""Ingest throughput and memory: our pipeline beside the plain LangChain recipe, in one run.

    python bench/ingest.py [--notes ../shared/public-notes] [--limit N]

Each contender runs in its own process on the same files (so peak memory is its own):
  ours     `Ingestor` (heading-aware chunks <= 256 word pieces, batched, manifest, week tags),
           its encoder in TUTOR_ENCODER_PRECISION (auto: the export's int8 graph)
  ours fp32  the same with TUTOR_ENCODER_PRECISION=fp32 (torch): what int8 buys
  recipe   RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings + Chroma.from_texts
  encoder  ingest's bare encoder on our chunks: the bound a pipeline can approach
  edit     one line edited in a public note of 40+ chunks, re-ingested: only changed chunks
           are embedded; beside it the whole-file re-embed a changed file used to cost
Then both indexes answer the same questions, to check retrieval holds.
`--edit` runs the edit measurement alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# question -> a file that answers it (relative to the notes folder)
QUESTIONS = {
    "how do the gates of an LSTM control the cell state": "cs231n/rnn.md",
    "what does max pooling do in a convolutional network": "cs231n/convolutional-networks.md",
    "how to choose the learning rate and check gradients numerically": "cs231n/neural-networks-3.md",
    "softmax classifier cross-entropy loss": "cs231n/linear-classify.md",
    "batch normalization during training and inference": "d2l-en/chapter_convolutional-modern/batch-norm.md",
    "scaled dot-product attention queries keys values": "d2l-en/chapter_attention-mechanisms-and-transformers/attention-scoring-functions.md",
    "what is a tokenizer and how does subword tokenization work": "hf-course/chapters/en/chapter2/4.mdx",
    "fine-tuning a model with the Trainer API": "hf-course/chapters/en/chapter3/3.mdx",
    "residual connections in ResNet": "d2l-en/chapter_convolutional-modern/resnet.md",
    "dropout as regularization": "d2l-en/chapter_multilayer-perceptrons/dropout.md",
}


def files_of(notes: Path, limit: int | None) -> list[Path]:
    from app.ingest.loaders import supported

    files = sorted(p for p in notes.rglob("*") if p.is_file() and supported(p))
    return files[:limit] if limit else files


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(notes: Path, limit: int | None, out: Path) -> dict:
    from app.config import Settings
    from app.ingest.pipeline import Ingestor

    folder = notes
    if limit:  # a folder of copies of the first N files (ingest never follows a link that
        folder = out / "subset"  # leaves the folder), so the pipeline sees the same set
        for path in files_of(notes, limit):
            target = folder / path.relative_to(notes)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    settings = Settings()
    ingestor = Ingestor(
        settings.model_copy(update={"data_dir": out / f"ours-{settings.encoder_precision}"})
    )
    ingestor.embedder.embed(["warm up"])  # model load is not ingest throughput
    summary = ingestor.run([str(folder)])
    texts = ingestor.store.all(include=["documents", "metadatas"])
    embed_texts = [
        f"{m['heading']}\n{t}" if m.get("heading") else t
        for t, m in zip(texts["documents"], texts["metadatas"])
    ]
    (out / "our-chunks.json").write_text(json.dumps(embed_texts))  # the same in both runs
    hits = {q: [h.source for h in _search_ours(ingestor, q)] for q in QUESTIONS}
    return {
        "seconds": summary.seconds,
        "chunks": summary.chunks,
        "chars": summary.chars,
        "skipped": len(summary.skipped),
        "peak_mb": peak_mb(),
        "hits": hits,
        "precision": (
            "int8"
            if getattr(ingestor.embedder.encoder, "int8", False)
            else "bf16"
            if getattr(ingestor.embedder.encoder, "bf16", False)
            else "fp32"
        ),
    }


def _search_ours(ingestor, question: str):
    from app.search.lexical import LexicalIndex
    from app.search.retrieval import Retriever
    from app.search.vectors import Embedder

    settings = ingestor.settings  # questions embedded as the product embeds them (fp32)
    retriever = Retriever(
        ingestor.store,
        Embedder(settings.embedding_model, settings.encoder_cache_dir),
        LexicalIndex(ingestor.store, settings.data_dir),
    )
    return retriever.search(question, k=5)


def run_recipe(notes: Path, limit: int | None, out: Path) -> dict:
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from app.search.vectors import EMBEDDING_PACKAGE
    from app.search.vectors import packaged_model_dir

    embeddings = HuggingFaceEmbeddings(
        model_name=str(packaged_model_dir(EMBEDDING_PACKAGE, "model")),
        model_kwargs={"device": "cpu"},
    )
    embeddings.embed_query("warm up")
    started = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts, metadatas, chars = [], [], 0
    for path in files_of(notes, limit):
        text = path.read_text(errors="ignore")
        chars += len(text)
        for chunk in splitter.split_text(text):
            texts.append(chunk)
            metadatas.append({"source": path.relative_to(notes).as_posix()})
    store = Chroma.from_texts(
        texts,
        embeddings,
        metadatas=metadatas,
        persist_directory=str(out / "recipe"),
        collection_name="recipe",
    )
    seconds = time.perf_counter() - started
    hits = {q: [d.metadata["source"] for d in store.similarity_search(q, k=5)] for q in QUESTIONS}
    # After timing: how much of what the recipe stored did the encoder never read?
    tokenizer = embeddings._client.tokenizer
    lengths = [len(ids) for ids in tokenizer(texts, verbose=False)["input_ids"]]
    window = embeddings._client.max_seq_length
    return {
        "seconds": seconds,
        "chunks": len(texts),
        "chars": chars,
        "chunk_chars": sum(map(len, texts)),
        "peak_mb": peak_mb(),
        "hits": hits,
        "truncated_chunks": sum(n > window for n in lengths) / len(lengths),
        "unread_tokens": sum(max(0, n - window) for n in lengths) / sum(lengths),
    }


def run_encoder(out: Path) -> dict:
    from app.config import Settings
    from app.ingest.pipeline import ENCODE_BATCH
    from app.ingest.pipeline import Ingestor

    texts = json.loads((out / "our-chunks.json").read_text())
    embedder = Ingestor(Settings(data_dir=out / "encoder")).embedder  # ingest's own encoder
    embedder.embed(["warm up"])
    started = time.perf_counter()
    embedder.embed(texts, batch_size=ENCODE_BATCH)
    return {
        "seconds": time.perf_counter() - started,
        "chunks": len(texts),
        "chars": sum(map(len, texts)),
        "peak_mb": peak_mb(),
    }


def _edit_line(path: Path, round_: int) -> None:
    """Change one word of one prose line in the middle of the file (a different line each round)."""
    lines = path.read_text().splitlines()
    prose = [i for i, line in enumerate(lines) if len(line.split()) > 8 and line[0].isalpha()]
    target = prose[len(prose) // 2 + round_]
    lines[target] = lines[target].replace(" ", f" edited{round_} ", 1)
    path.write_text("\n".join(lines) + "\n")


def run_edit(notes: Path, out: Path, rounds: int = 3) -> dict:
    from app.config import Settings
    from app.ingest.documents import Document
    from app.ingest.loaders import load
    from app.ingest.pipeline import Ingestor

    ingestor = Ingestor(Settings(data_dir=out / "edit"))

    def chunk_count(path: Path) -> int:
        loaded = load(path)
        return len(ingestor.chunk(Document(path.name, loaded.title, loaded.text, "public")))

    by_size = sorted(files_of(notes, None), key=lambda p: -p.stat().st_size)
    source = next(p for p in by_size if p.suffix == ".md" and chunk_count(p) >= 40)
    folder = out / "edit-notes"
    folder.mkdir()
    path = Path(shutil.copy(source, folder / source.name))
    ingestor.embedder.embed(["warm up"])
    _ = ingestor.tagger  # model load and week topics are not edit cost
    chunks = ingestor.run([str(folder)]).chunks
    times: dict[str, list[float]] = {"changed chunks": [], "whole file": []}
    embedded: dict[str, list[int]] = {"changed chunks": [], "whole file": []}
    reuse = ingestor.store.vectors_by_content
    for round_ in range(rounds):
        for mode in times:
            # The baseline forgets stored vectors: what re-ingesting a changed file used to do.
            ingestor.store.vectors_by_content = (
                reuse if mode == "changed chunks" else (lambda root, file: {})
            )
            _edit_line(path, round_ * 2 + (mode == "whole file"))
            summary = ingestor.run([str(folder)])
            times[mode].append(summary.seconds)
            embedded[mode].append(summary.chunks - summary.reused)
    return {
        "file": source.relative_to(notes).as_posix(),
        "chunks": chunks,
        "seconds": {m: statistics.median(t) for m, t in times.items()},
        "embedded": {m: statistics.median(e) for m, e in embedded.items()},
    }


def print_edit(edit: dict) -> None:
    print(
        f"\nedit one line of {edit['file']} ({edit['chunks']} chunks) and re-ingest, median of 3:"
    )
    for mode in ["changed chunks", "whole file"]:
        print(
            f"  {mode:16}{edit['seconds'][mode]:7.2f} s  {edit['embedded'][mode]:4.0f} chunks embedded"
            + ("  (baseline: whole-file re-embed)" if mode == "whole file" else "")
        )
    print(f"  speed-up: {edit['seconds']['whole file'] / edit['seconds']['changed chunks']:.1f}x")


def child(
    mode: str, notes: Path, limit: int | None, out: Path, env: dict[str, str] | None = None
) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--notes", str(notes), "--out", str(out)]
    if limit:
        command += ["--limit", str(limit)]
    proc = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO, env=os.environ | (env or {})
    )
    if proc.returncode != 0:
        sys.exit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def hit_rate(hits: dict[str, list[str]], notes_prefix: str = "") -> float:
    found = [
        QUESTIONS[q].removeprefix(notes_prefix) in [s.removeprefix(notes_prefix) for s in h]
        for q, h in hits.items()
    ]
    return sum(found) / len(found)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--notes",
        type=Path,
        default=REPO.parent / "shared" / "public-notes",
        help="the notes ingested (default ../shared/public-notes)",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N files")
    parser.add_argument(
        "--edit", action="store_true", help="only the edit-and-re-ingest measurement"
    )
    parser.add_argument(
        "--child", choices=["ours", "recipe", "encoder", "edit"], help=argparse.SUPPRESS
    )
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        runner = {
            "ours": lambda: run_ours(args.notes, args.limit, args.out),
            "recipe": lambda: run_recipe(args.notes, args.limit, args.out),
            "encoder": lambda: run_encoder(args.out),
            "edit": lambda: run_edit(args.notes, args.out),
        }[args.child]
        print(json.dumps(runner()))
        return
    if not args.notes.is_dir():
        sys.exit(f"no notes at {args.notes}: pass --notes DIR")
    if args.edit:
        with tempfile.TemporaryDirectory() as tmp:
            print_edit(child("edit", args.notes, None, Path(tmp)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        print(
            f"ingesting {len(files_of(args.notes, args.limit))} files from {args.notes} ...",
            flush=True,
        )
        ours = child("ours", args.notes, args.limit, out)
        fp32 = child("ours", args.notes, args.limit, out, {"TUTOR_ENCODER_PRECISION": "fp32"})
        recipe = child("recipe", args.notes, args.limit, out)
        encoder = child("encoder", args.notes, args.limit, out)
        edit = child("edit", args.notes, None, out)
    source_chars = sum(len(p.read_text(errors="ignore")) for p in files_of(args.notes, args.limit))
    for r in (ours, fp32, recipe, encoder):
        r["chars"] = source_chars  # rates below are in source characters
    rows = [
        (f"ours ({ours['precision']})", ours),
        ("ours, fp32", fp32),
        ("langchain recipe", recipe),
        ("encoder alone (bound)", encoder),
    ]
    print(f"\n{'':24}{'seconds':>9}{'chunks':>8}{'chunks/s':>10}{'src chars/s':>12}{'peak MB':>9}")
    for name, r in rows:
        print(
            f"{name:24}{r['seconds']:9.1f}{r['chunks']:8d}{r['chunks'] / r['seconds']:10.1f}"
            f"{r['chars'] / r['seconds']:12.0f}{r['peak_mb']:9.0f}"
        )
    ours_cps, recipe_cps = ours["chars"] / ours["seconds"], recipe["chars"] / recipe["seconds"]
    print(f"\nsource chars/s, ours / recipe: {ours_cps / recipe_cps:.2f}x (target >= 1.6x)")
    print(f"ours in fp32 / recipe: {fp32['chars'] / fp32['seconds'] / recipe_cps:.2f}x")
    print(
        f"ours vs the encoder alone on the same chunks: {ours['seconds'] / encoder['seconds']:.2f}x "
        f"its time ({100 * (ours['seconds'] / encoder['seconds'] - 1):+.0f}%)"
    )
    print(
        f"recipe re-embeds {recipe['chunk_chars'] / recipe['chars']:.2f}x the source characters "
        f"(200-char overlap), and {recipe['truncated_chunks']:.0%} of its chunks pass the model's "
        f"window: {recipe['unread_tokens']:.0%} of its tokens are silently never embedded"
    )
    print(
        f"retrieval hit@5 on {len(QUESTIONS)} questions: ours {hit_rate(ours['hits']):.0%}, "
        f"ours in fp32 {hit_rate(fp32['hits']):.0%}, recipe {hit_rate(recipe['hits']):.0%}"
    )
    print_edit(edit)


if __name__ == "__main__":
    main()
