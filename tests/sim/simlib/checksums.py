"""S3 checksum algorithms: CRC32, CRC32C, CRC64NVME, SHA1, SHA256 (streaming).

Header values are base64 of the big-endian digest. CRC32C uses awscrt when present
(python3-awscrt, which awscli pulls in), else a table-driven fallback.
"""

import base64
import hashlib
import zlib

try:
    from awscrt import checksums as _crt
except ImportError:   # pragma: no cover - depends on the machine
    _crt = None


def _table(poly, bits):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_CRC32C_T = _table(0x82F63B78, 32)
_CRC64_T = _table(0x9A6C9329AC4BC9B5, 64)
_M64 = (1 << 64) - 1


def _crc32c_py(data, crc=0):
    c = crc ^ 0xFFFFFFFF
    t = _CRC32C_T
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _crc64nvme(data, crc=0):
    c = crc ^ _M64
    t = _CRC64_T
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ _M64


class Checksum:
    """Streaming checksum: Checksum("CRC32C").update(b)...; .digest() / .b64()."""

    ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")

    def __init__(self, algorithm):
        self.algorithm = algorithm.upper()
        if self.algorithm not in self.ALGORITHMS:
            raise ValueError(algorithm)
        self.crc = 0
        self.h = hashlib.new(self.algorithm.lower()) if self.algorithm.startswith("SHA") \
            else None

    def update(self, data):
        a = self.algorithm
        if self.h is not None:
            self.h.update(data)
        elif a == "CRC32":
            self.crc = zlib.crc32(data, self.crc)
        elif a == "CRC32C":
            self.crc = _crt.crc32c(data, self.crc) if _crt else _crc32c_py(data, self.crc)
        else:
            self.crc = _crc64nvme(data, self.crc)
        return self

    def digest(self):
        if self.h is not None:
            return self.h.digest()
        n = 8 if self.algorithm == "CRC64NVME" else 4
        return self.crc.to_bytes(n, "big")

    def b64(self):
        return base64.b64encode(self.digest()).decode()


def of(algorithm, data):
    return Checksum(algorithm).update(data).b64()


def composite(algorithm, part_b64s):
    """S3 COMPOSITE multipart checksum: base64(H(concat(raw part digests))) + '-N'."""
    c = Checksum(algorithm)
    for v in part_b64s:
        c.update(base64.b64decode(v))
    return f"{c.b64()}-{len(part_b64s)}"
