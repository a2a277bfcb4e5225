"""Entity resolution: which records of the departments are one person.

Pure (no Django). Features are computed in DuckDB (`features`), pairs are
scored by a Fellegi–Sunter model in Splink (`settings`, `model`) and clustered
under human decisions and ID constraints (`cluster`, `engine`).
"""

from wangge.fusion.resolution.csvio import dedupe_csv
from wangge.fusion.resolution.engine import Resolution, link_new, resolve
from wangge.fusion.resolution.features import RECORD_COLUMNS
from wangge.fusion.resolution.model import Model, load_model, save_model, train_model

__all__ = ["RECORD_COLUMNS", "Model", "Resolution", "dedupe_csv", "link_new", "load_model",
           "resolve", "save_model", "train_model"]
