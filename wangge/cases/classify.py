"""Free-text report → catalog category code, with a confidence.

Pure module (no Django): intake asks `Classifier.top` for the operator's
suggestions and routes on its own when the first one is confident enough
(`services._confident`); `classifying` retrains from the catalog phrases and
closed cases; the benchmark calls `train` and `evaluate` directly. `dumps`
and `loads` let a trained model be stored.

Reports are short and colloquial, sometimes in traditional script or with
full-width characters, often mistyped. Word segmentation breaks on exactly
those, so the features are character 1–3-grams (TF-IDF, sublinear) and the
model is one logistic regression per code fitted by SGD. Its probabilities,
normalised over the codes so that they sum to 1, are what the threshold is
applied to.
"""

from __future__ import annotations

import functools
import io
import math
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

# Reports are a sentence or two. A pasted document would slow the vectoriser
# down without changing the category.
MAX_LEN = 500

# Below this top-1 probability the report waits for an operator. Measured on
# the demo catalog (140 codes), trained on the catalog phrases plus
# sample_reports(1, 5000) and tested on sample_reports(2, 2000). Top-1
# accuracy was 94.5% (seeds 0–2 within 0.3 points), and by threshold:
#   threshold             0.3    0.4    0.5    0.6    0.7
#   left to an operator   5%     8%     11%    17%    29%
#   right when routed     97.0%  97.5%  98.3%  99.0%  99.7%
# At 0.5 about one report in nine waits and about one in sixty is misrouted.
# Most of the misrouted reports name no problem ("…有情况，请尽快来看看") or
# name two. Above 0.5, each step adds half or more to the operator's queue
# and gains less than a point of precision.
CONFIDENCE_THRESHOLD = 0.5

# SGD settings; see `train`. A smaller alpha leaves accuracy as it is but
# makes the probabilities overconfident: with alpha=1e-6, only 3% of reports
# fall below 0.5, and those routed are 96.5% right.
_ALPHA = 1e-5
# Epochs: as many as fit in _ROW_VISITS rows, at least 1 and at most
# _MAX_EPOCHS. Small data gets more passes because they are cheap and help:
# the 865 catalog phrases alone score 90.5% top-1 after 1 epoch and 92% after
# 2 or more. Large data needs only one: 10k samples score about 95% after 1,
# 2 or 3 epochs, and 20k samples 95.3–95.5% after 1 or 2. So training below
# 20k samples never costs more than one epoch over 20k (about 2 s on one
# core); above that it grows linearly. `classifying` caps past cases at 20k.
_ROW_VISITS = 20_000
_MAX_EPOCHS = 5

# Stored in the blob so that `loads` rejects a layout it does not know
# instead of guessing.
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

    Punctuation and symbols become spaces. They say nothing about the
    category, and a text made only of them must come out empty so that `top`
    returns []. Each run of digits becomes "0": house and building numbers
    vary without end, and each would be a feature seen once."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", _simplified(text[:MAX_LEN])).lower()
    text = "".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in text)
    text = _DIGITS.sub("0", text)
    return _SPACES.sub(" ", text).strip()


def ngrams(text: str) -> list[str]:
    """Character 1–3-grams of each space-separated run in a `normalise`d text.

    These are sklearn's "char_wb" n-grams: the 2- and 3-grams at the edges of
    a run include a space, so "井盖 破损" yields "盖 " but never "盖 破".
    One gram is left out: the lone space that every text shares. Its weights
    acted as a second intercept and gave a confident guess to a text made
    only of unknown characters."""
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
    confidence: float  # probability, 0..1; the guesses for one text sum to at most 1


class Classifier:
    """A trained model. Build it with `train` or `loads`.

    This holds the fitted numbers, not the sklearn objects. sklearn's
    `transform` and `predict_proba` spend about 0.4 ms validating their input
    for every single text, more than the work itself takes. Loading also
    then needs only numpy, so a blob stays readable after a scikit-learn
    upgrade."""

    def __init__(self, *, terms: Sequence[str], idf: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray, codes: Sequence[str]) -> None:
        self.codes: tuple[str, ...] = tuple(codes)
        self._terms = tuple(terms)
        self._index: dict[str, int] = {t: i for i, t in enumerate(self._terms)}
        self._idf = np.asarray(idf, dtype=np.float64)
        # float32 halves the memory of the largest array (140 codes × ~36k
        # n-grams at 20k samples). The probabilities move only in the 7th digit.
        # `loads` builds the same float32 array, so a round trip predicts
        # exactly what the trained model did.
        self._coef_t = np.ascontiguousarray(np.asarray(coef, dtype=np.float32).T)
        self._intercept = np.asarray(intercept, dtype=np.float32)

    def _features(self, cleaned: Sequence[str]) -> scipy.sparse.csr_matrix:
        """What the fitted TfidfVectorizer(sublinear_tf=True) gives: (1 + ln tf)
        × idf, L2-normalised per row; n-grams not seen in training are dropped."""
        indptr, indices, data = [0], [], []
        for text in cleaned:
            counts = Counter(j for g in ngrams(text) if (j := self._index.get(g)) is not None)
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            values = (1.0 + np.log(tf)) * self._idf[idx]
            norm = math.sqrt(float(values @ values))
            if norm:
                values /= norm
            indices.append(idx)
            data.append(values)
            indptr.append(indptr[-1] + len(idx))
        return scipy.sparse.csr_matrix(
            (np.concatenate(data), np.concatenate(indices), np.asarray(indptr)),
            shape=(len(cleaned), len(self._terms)))

    def _proba(self, cleaned: Sequence[str]) -> np.ndarray:
        """What `SGDClassifier.predict_proba` gives: one sigmoid per code,
        normalised to sum to 1. With two codes there is one sigmoid and its
        complement."""
        features = self._features(cleaned).astype(np.float32)
        scores = np.asarray(features @ self._coef_t, dtype=np.float64) + self._intercept
        proba = 1.0 / (1.0 + np.exp(-np.clip(scores, -30.0, 30.0)))
        if len(self.codes) == 2:
            return np.hstack([1.0 - proba, proba])
        return proba / proba.sum(axis=1, keepdims=True)

    def top(self, text: str, k: int = 3) -> list[Guess]:
        """Up to `k` codes, most probable first; [] when nothing is left to read.

        A text made only of characters the model never saw still gets guesses.
        Their confidences then reflect only how common each code was in
        training: about 0.05 with the 140-code catalog, well below
        CONFIDENCE_THRESHOLD."""
        return self.top_many([text], k)[0]

    def top_many(self, texts: Sequence[str], k: int = 3) -> list[list[Guess]]:
        cleaned = [normalise(t) for t in texts]
        results: list[list[Guess]] = [[] for _ in cleaned]
        keep = [i for i, t in enumerate(cleaned) if t]
        if not keep or k <= 0:
            return results
        proba = self._proba([cleaned[i] for i in keep])
        k = min(k, len(self.codes))
        best = np.argpartition(-proba, k - 1, axis=1)[:, :k]
        for row, i in enumerate(keep):
            order = best[row][np.argsort(-proba[row, best[row]], kind="stable")]
            results[i] = [Guess(self.codes[j], float(proba[row, j])) for j in order]
        return results


def train(samples: Sequence[tuple[str, str]], *, seed: int = 0) -> Classifier:
    """Fit on (text, code) pairs. Raises ValueError if fewer than two codes
    have a text that `normalise` leaves non-empty.

    A code with only one phrase is kept. For a category that no case has used
    yet, the catalog is the only source, and the n-grams of a single phrase
    are enough to rank it first when a report repeats its words.

    The model is SGD rather than `LogisticRegression`. With 140 codes and 20k
    samples, lbfgs needs 30 or more passes to reach the same accuracy, which
    took 8–10 s on one core. One SGD epoch takes about 2 s. That matters
    because `classifying.model` retrains inside an intake request. A calibrated
    LinearSVC is ruled out because calibration cross-validates, and a code
    with one or two phrases cannot be split into folds."""
    # Importing sklearn takes about 0.6 s. Only training needs it, and every
    # process that imports `services` imports this module.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier

    pairs = [(normalise(text), str(code)) for text, code in samples if code]
    pairs = [(text, code) for text, code in pairs if text]
    if len({code for _, code in pairs}) < 2:
        raise ValueError("训练样本至少需要两个不同的类别")
    texts, codes = zip(*pairs, strict=True)
    epochs = min(_MAX_EPOCHS, max(1, _ROW_VISITS // len(texts)))
    vectorizer = TfidfVectorizer(analyzer=ngrams, sublinear_tf=True, min_df=1,
                                 dtype=np.float32)
    x = vectorizer.fit_transform(texts)
    # With tol=None, SGD runs exactly `epochs` epochs, so the training time
    # depends only on the data size. One job and a seeded shuffle make the
    # result reproducible.
    model = SGDClassifier(loss="log_loss", alpha=_ALPHA, max_iter=epochs, tol=None,
                          random_state=seed, n_jobs=1)
    model.fit(x, np.asarray(codes))
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    return Classifier(terms=terms, idf=vectorizer.idf_, coef=model.coef_,
                      intercept=model.intercept_, codes=[str(c) for c in model.classes_])


def evaluate(
    model: Classifier,
    samples: Sequence[tuple[str, str]],
    *,
    threshold: float = CONFIDENCE_THRESHOLD,
) -> dict[str, float]:
    """Returns top-1 and top-3 accuracy, the share of samples that would wait
    for an operator (`abstained`), and top-1 accuracy over the others.

    An empty text counts as wrong and as abstained. When no guess reaches the
    threshold, `accuracy_when_confident` is 0."""
    n = len(samples)
    if n == 0:
        return {"n": 0, "accuracy": 0.0, "top3": 0.0, "abstained": 0.0,
                "accuracy_when_confident": 0.0}
    guesses = model.top_many([text for text, _ in samples], k=3)
    hit1 = hit3 = confident = confident_hit = 0
    for (_, code), top in zip(samples, guesses, strict=True):
        hit = bool(top) and top[0].code == code
        hit1 += hit
        hit3 += any(g.code == code for g in top)
        if top and top[0].confidence >= threshold:
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
    """An .npz of plain arrays. `loads` reads it with allow_pickle=False, so
    a stored blob cannot run code, whoever last wrote to it. At 20k samples
    it is about 20 MB, most of it the float32 coefficients."""
    buffer = io.BytesIO()
    np.savez(buffer, format=np.array(_FORMAT), terms=np.array(model._terms, dtype=str),
             idf=model._idf, coef=model._coef_t.T, intercept=model._intercept,
             codes=np.array(model.codes, dtype=str))
    return buffer.getvalue()


def loads(data: bytes) -> Classifier:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            fields: dict[str, Any] = {name: arrays[name] for name in arrays.files}
        if int(fields["format"]) != _FORMAT:
            raise ValueError("unknown format")
        return Classifier(terms=[str(t) for t in fields["terms"]], idf=fields["idf"],
                          coef=fields["coef"], intercept=fields["intercept"],
                          codes=[str(c) for c in fields["codes"]])
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError("模型数据无法读取，请重新训练") from exc
