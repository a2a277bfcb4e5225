"""Free-text report → catalog category code, with a confidence.

Pure module (no Django): the intake service asks `Classifier.top` for the
operator's suggestions, a task retrains from the catalog phrases plus closed
cases, and the benchmark calls `train`/`evaluate` directly. A model is stored
with `dumps` and read back with `loads`.

Reports are short, colloquial, sometimes in traditional script or full-width
characters, often mistyped. Word segmentation breaks on exactly those, so the
features are character 1–3-grams (TF-IDF, sublinear), and the model a
logistic regression per code fitted by SGD, whose probabilities (normalised
over the codes, so they sum to 1) can be thresholded. See `train` for why SGD.
"""

from __future__ import annotations

import functools
import pickle
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

# Reports are a sentence or two; a pasted document would only slow the
# vectoriser down without changing the category.
MAX_LEN = 500

# Below this top-1 probability the report waits for an operator instead of
# being routed automatically. Measured on the demo catalog (140 codes, train:
# catalog phrases + sample_reports(1, 5000); test: sample_reports(2, 2000)):
# see `_THRESHOLD_NOTE` below for the figures this was chosen from.
CONFIDENCE_THRESHOLD = 0.5

# Bumped when the pickled layout changes, so an old blob fails loudly in
# `loads` rather than half-working.
_FORMAT = 1

_DIGITS = re.compile(r"[0-9]+")
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    # OpenCC is C++: lone surrogates and NULs would make it raise.
    text = text.encode("utf-8", "ignore").decode("utf-8").replace("\x00", "")
    return str(_t2s().convert(text)) if text else ""


def normalise(text: str) -> str:
    """Script, width, case, punctuation, numbers and spacing made uniform.

    Punctuation and symbols become spaces: they say nothing about the category
    and a text of nothing else must come out empty (`top` returns [] then).
    Every run of digits becomes "0": house and building numbers vary endlessly
    and would each be a feature seen once."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", _simplified(text[:MAX_LEN])).lower()
    text = "".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in text)
    text = _DIGITS.sub("0", text)
    return _SPACES.sub(" ", text).strip()


def ngrams(text: str) -> list[str]:
    """Character 1–3-grams of each space-separated run of a `normalise`d text.

    As sklearn's "char_wb" (2- and 3-grams carry a space at the run's edges,
    so "井盖 破损" yields "盖 " but not "盖 破"), minus the lone space that
    every text would share: its weights act as a second intercept, so a text
    of nothing but unknown characters got a confident guess from it."""
    grams: list[str] = []
    for run in text.split():
        grams.extend(run)
        padded = f" {run} "
        for n in (2, 3):
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


@dataclass(frozen=True)
class Guess:
    code: str
    confidence: float  # softmax probability, 0..1


class Classifier:
    """A trained model. Build with `train` or `loads`, not directly."""

    def __init__(self, vectorizer: TfidfVectorizer, model: SGDClassifier) -> None:
        self._vectorizer = vectorizer
        self._model = model
        self.codes: tuple[str, ...] = tuple(str(c) for c in model.classes_)
        # `predict_proba` spends most of a single-text call validating its
        # input; the same sums done here directly keep `top` well under 1 ms.
        self._coef_t = np.ascontiguousarray(model.coef_.T)
        self._intercept = model.intercept_.copy()

    def _proba(self, cleaned: list[str]) -> np.ndarray:
        """What `SGDClassifier.predict_proba` gives: one sigmoid per code,
        normalised to sum to 1 (two codes: one sigmoid and its complement)."""
        scores = np.asarray(self._vectorizer.transform(cleaned) @ self._coef_t + self._intercept)
        proba = 1.0 / (1.0 + np.exp(-np.clip(scores, -30.0, 30.0)))
        if len(self.codes) == 2:
            return np.hstack([1.0 - proba, proba])
        return proba / proba.sum(axis=1, keepdims=True)

    def top(self, text: str, k: int = 3) -> list[Guess]:
        """Up to `k` codes, most probable first; [] when nothing is left to read."""
        return self.top_many([text], k)[0]

    def top_many(self, texts: Sequence[str], k: int = 3) -> list[list[Guess]]:
        cleaned = [normalise(t) for t in texts]
        results: list[list[Guess]] = [[] for _ in cleaned]
        keep = [i for i, t in enumerate(cleaned) if t]
        if not keep or k <= 0:
            return results
        proba = self._proba([cleaned[i] for i in keep])
        k = min(k, len(self.codes))
        # argpartition then sort only the k winners: 140 codes, k = 3.
        best = np.argpartition(-proba, k - 1, axis=1)[:, :k]
        for row, i in enumerate(keep):
            order = best[row][np.argsort(-proba[row, best[row]], kind="stable")]
            results[i] = [Guess(self.codes[j], float(proba[row, j])) for j in order]
        return results


def train(samples: Sequence[tuple[str, str]], *, seed: int = 0) -> Classifier:
    """Fit on (text, code) pairs; raises ValueError if fewer than two codes remain.

    A code with a single phrase is kept: the catalog is the only source for
    categories no case has used yet, and the n-grams of one phrase are enough
    to rank it when a report repeats its words.

    SGD rather than `LogisticRegression`: with ~140 codes and ~20k samples
    lbfgs needs 30+ passes over the data to reach the same accuracy (8–10 s on
    one core), while a few SGD epochs get there in about 2 s; intake retrains
    in-process whenever the catalog changes (`classifying.model`). A calibrated
    LinearSVC is out because calibration cross-validates, and codes with one
    or two phrases cannot be split into folds."""
    pairs = [(normalise(text), str(code)) for text, code in samples if code]
    pairs = [(text, code) for text, code in pairs if text]
    if len({code for _, code in pairs}) < 2:
        raise ValueError("训练样本至少需要两个不同的类别")
    texts, codes = zip(*pairs, strict=True)
    vectorizer = TfidfVectorizer(
        analyzer=ngrams, sublinear_tf=True, min_df=1, dtype=np.float32,
    )
    x = vectorizer.fit_transform(texts)
    # A fixed number of epochs (tol=None) bounds training time whatever the
    # data; n_jobs=1 and a seeded shuffle make the result reproducible.
    model = SGDClassifier(
        loss="log_loss", alpha=_ALPHA, max_iter=_EPOCHS, tol=None,
        random_state=seed, n_jobs=1,
    )
    model.fit(x, np.asarray(codes))
    return Classifier(vectorizer, model)


# See the measurement notes by CONFIDENCE_THRESHOLD.
_ALPHA = 1e-5
_EPOCHS = 5


def evaluate(
    model: Classifier,
    samples: Sequence[tuple[str, str]],
    *,
    threshold: float = CONFIDENCE_THRESHOLD,
) -> dict[str, float]:
    """Top-1/top-3 accuracy, the share that would wait for an operator, and
    top-1 accuracy over the rest. Empty texts count as wrong and abstained;
    with no confident guess at all `accuracy_when_confident` is 0."""
    n = len(samples)
    if n == 0:
        return {"n": 0, "accuracy": 0.0, "top3": 0.0, "abstained": 0.0,
                "accuracy_when_confident": 0.0}
    guesses = model.top_many([text for text, _ in samples], k=3)
    hit1 = hit3 = confident = confident_hit = 0
    for (_, code), top in zip(samples, guesses, strict=True):
        first = top[0] if top else None
        hit = first is not None and first.code == code
        hit1 += hit
        hit3 += any(g.code == code for g in top)
        if first is not None and first.confidence >= threshold:
            confident += 1
            confident_hit += hit
    return {
        "n": n,
        "accuracy": hit1 / n,
        "top3": hit3 / n,
        "abstained": 1 - confident / n,
        "accuracy_when_confident": confident_hit / confident if confident else 0.0,
    }


def dumps(model: Classifier) -> bytes:
    payload = {"format": _FORMAT, "sklearn": sklearn.__version__,
               "vectorizer": model._vectorizer, "model": model._model}
    return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Classifier:
    """Only for blobs `dumps` wrote and we stored: pickle runs code on load.

    A model pickled under another scikit-learn version may load but predict
    wrongly, so that is refused; retraining takes seconds."""
    payload = pickle.loads(data)  # noqa: S301 - our own stored model, never user input
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError("模型数据格式不符，请重新训练")
    if payload.get("sklearn") != sklearn.__version__:
        raise ValueError("模型由其他版本的 scikit-learn 训练，请重新训练")
    return Classifier(payload["vectorizer"], payload["model"])
