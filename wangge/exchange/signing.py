"""Request signing for the exchange gateway. Pure: no Django import, so a
department's own program can copy this module to sign its calls.

A request carries four headers:

    X-WG-Key        the client's key id
    X-WG-Timestamp  Unix seconds when it was signed
    X-WG-Nonce      16–64 characters [A-Za-z0-9_-], never used twice by a key
    X-WG-Signature  hex HMAC-SHA256 of `canonical(...)` under the client's secret

The signed text binds the method, the path, the query (sorted), the body's
SHA-256, the timestamp, the nonce and the key id, so changing any of them
breaks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote

SCHEME = "WG1-HMAC-SHA256"
WINDOW_SECONDS = 300
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KEY_ID = re.compile(r"^wgk_[0-9a-f]{16}$")

HEADER_KEY = "X-WG-Key"
HEADER_TIMESTAMP = "X-WG-Timestamp"
HEADER_NONCE = "X-WG-Nonce"
HEADER_SIGNATURE = "X-WG-Signature"
HEADER_PURPOSE = "X-WG-Purpose"


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))


def canonical(method: str, path: str, query: str, body: bytes, timestamp: str, nonce: str,
              key_id: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return "\n".join([SCHEME, method.upper(), path, canonical_query(pairs), timestamp, nonce,
                      key_id, hashlib.sha256(body).hexdigest()])


def signature(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def derive_secret(server_key: str, key_id: str, salt: str) -> str:
    return hmac.new(server_key.encode(), f"exchange-client:{key_id}:{salt}".encode(),
                    hashlib.sha256).hexdigest()


def new_key_id() -> str:
    return "wgk_" + secrets.token_hex(8)


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def sign_headers(key_id: str, secret: str, method: str, path: str, query: str = "",
                 body: bytes = b"", *, now: float | None = None,
                 nonce: str | None = None) -> dict[str, str]:
    """The headers for one request; the client side of `check`."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = nonce or new_nonce()
    text = canonical(method, path, query, body, timestamp, nonce, key_id)
    return {HEADER_KEY: key_id, HEADER_TIMESTAMP: timestamp, HEADER_NONCE: nonce,
            HEADER_SIGNATURE: signature(secret, text)}


class SignatureError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_shape(key_id: str, timestamp: str, nonce: str, sig: str, *, now: float) -> int:
    """The headers are all there and well formed, and the timestamp is inside
    the window; returns the timestamp."""
    if not (key_id and timestamp and nonce and sig):
        raise SignatureError("signature_missing",
                             "缺少签名头：需要 X-WG-Key、X-WG-Timestamp、X-WG-Nonce、X-WG-Signature")
    if not KEY_ID.match(key_id):
        raise SignatureError("unknown_key", "Key 不存在或已停用")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("bad_timestamp", "X-WG-Timestamp 应为 Unix 秒数")
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        raise SignatureError("stale_timestamp",
                             f"请求时间与服务器相差超过 {WINDOW_SECONDS} 秒，请校准时钟后重新签名")
    if not NONCE.match(nonce):
        raise SignatureError("bad_nonce", "X-WG-Nonce 应为 16–64 位字母、数字、- 或 _")
    if not re.fullmatch(r"[0-9a-f]{64}", sig):
        raise SignatureError("bad_signature", "签名不正确")
    return int(timestamp)


def check(secret: str, method: str, path: str, query: str, body: bytes, timestamp: str,
          nonce: str, key_id: str, sig: str) -> None:
    expected = signature(secret, canonical(method, path, query, body, timestamp, nonce, key_id))
    if not hmac.compare_digest(expected, sig):
        raise SignatureError("bad_signature", "签名不正确：请按文档对方法、路径、查询参数、请求体、时间戳、Nonce 和 Key 签名")
