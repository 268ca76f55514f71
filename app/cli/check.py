"""Is my implementation right? `tutor check`: your from-scratch code against the plan's hidden property tests, in a sandbox."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from app.cli.base import DataDirOption
from app.cli.base import JsonOption
from app.cli.base import app
from app.cli.base import argument
from app.cli.base import err
from app.cli.base import fail
from app.cli.base import local_learner
from app.cli.base import option
from app.cli.base import out
from app.cli.base import print_json
from app.cli.base import settings_for


@app.command("check", rich_help_panel="Practice")
def check_(
    file: Annotated[
        Path,
        argument(help="Your Python file with the assignment's functions."),
    ],
    week: Annotated[int, option("--week", "-w", help="The assignment's week.")],
    only: Annotated[
        str | None,
        typer.Option("--check", help="One of the week's checks (weeks 2 and 6 have two)."),
    ] = None,
    record: Annotated[bool, typer.Option(help="Keep the attempt in your progress.")] = True,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Check your from-scratch implementation of a week's assignment: hidden tests on random
    inputs (Hypothesis), each failure shrunk to a small input, with a hint citing the week's
    notes. Your code runs in a sandbox (no network, its own temp dir, limited CPU, memory,
    processes and files). Exit code 0: all checks pass; 1: not yet; 2: cannot check.

    Checked weeks and what your file must define:

    \b
    [dim]1 pca(X, k)
    2 svd(A), eigh(A)
    3 naive_bayes(X_train, y_train, X_test)
    5 class Value
    6 sgd_momentum(w, g, state, lr, momentum), adam(w, g, state, lr, beta1, beta2, eps)
    7 batchnorm(x, gamma, beta, eps)
    8 conv2d(x, kernel, stride, padding)
    9 rnn_step(x, h, Wx, Wh, b), rnn_bptt(xs, h0, Wx, Wh, b, dhs)
    10 kmeans(X, centroids, iters)
    11 mlp_backprop(X, y, W1, b1, W2, b2)
    13 softmax(logits), cross_entropy(logits, targets),
       bigram_probs(corpus, vocab, alpha), perplexity(probs, vocab, sequences)
    17 lstm_cell(x, h, c, W, b)
    18 attention(Q, K, V, mask) (mask True = may attend)
    21 bpe_merges(words, n_merges)
    22 tfidf(docs, vocab)
    25 positional_encoding(T, d), layer_norm(x, gamma, beta, eps), causal_mask(T)
    26 apply_temperature(logits, t), top_k(probs, k), top_p(probs, p)
    28 lora_forward(x, W, A, B, alpha, r), lora_merge(W, A, B, alpha, r)
    29 rouge_n(candidate, reference, n), rouge_l(candidate, reference)
    38 reward_loss(r_chosen, r_rejected), dpo_loss(logp_chosen, logp_rejected, ...)
    40 chunk(text, size, overlap), top_k(query_vec, doc_vecs, k)
    42 quantize(x), dequantize(q, scale, zero_point)
    43 fgsm(x, grad, epsilon), fgsm_logistic(x, y, w, b, epsilon)[/dim]

    Shapes and conventions: `GET /checks`, and every failing verdict prints them. A file
    without them gets the full interface in the verdict.

    [dim]Examples:[/dim]
      tutor check --week 1 my_pca.py
      tutor check --week 6 --check adam optimizers.py
      tutor check --week 18 attention.py --json
    """
    from app.checks.engine import CheckError
    from app.checks.engine import run_checks
    from app.checks.report import render_verdict

    settings = settings_for(data_dir)
    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}", code=2)
    # stopped by SIGTERM (a `timeout`, a supervisor) or Ctrl-C, the sandbox still kills its
    # processes and removes its folder: KeyboardInterrupt unwinds through it (Hypothesis lets
    # it through, where it would take SystemExit for a failing example)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        verdict = run_checks(week, source, settings, only=only, filename=file.name)
    except CheckError as exc:
        fail(str(exc), code=2)
    except KeyboardInterrupt:
        err.print("stopped: the check did not finish")
        raise typer.Exit(130) from None
    if not as_json:  # the verdict first: keeping it loads the learner database's modules
        out.print(render_verdict(verdict), soft_wrap=True)
    if record:
        from app.records.checks import CheckRecords

        store, learner = local_learner(settings)
        verdict["attempt_id"] = CheckRecords(store).record(learner.id, verdict)
    if as_json:
        print_json(verdict)
    raise typer.Exit(0 if verdict["passed"] else 1)
