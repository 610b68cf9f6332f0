"""CRC-64/ECMA as COS reports it (``x-cos-hash-crc64ecma``, decimal): the reflected ECMA-182
polynomial with all-ones init and final xor (a.k.a. CRC-64/XZ; cos-python-sdk-v5 computes it
with ``crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xffffffffffffffff, rev=True)``).

``crc64`` is incremental (``crc64(b, crc64(a)) == crc64(a + b)``); ``crc64_combine`` joins the
CRCs of consecutive pieces without their bytes (multipart uploads), like zlib's crc32_combine.
"""

from __future__ import annotations

from fastcrc import crc64 as _fast

HEADER = "x-cos-hash-crc64ecma"
_POLY_REFLECTED = 0xC96C5795D7870F42
_MASK = (1 << 64) - 1
_zero_byte_ops: list[list[int]] = []     # [k]: GF(2) operator appending 2**k zero bytes


def crc64(data: bytes | memoryview, crc: int | None = None) -> int:
    return _fast.xz(data) if crc is None else _fast.xz(data, initial=crc)


def _times(mat: list[int], vec: int) -> int:
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= mat[i]
        vec >>= 1
        i += 1
    return out


def _square(mat: list[int]) -> list[int]:
    return [_times(mat, row) for row in mat]


def _op(k: int) -> list[int]:
    if not _zero_byte_ops:
        one_bit = [_POLY_REFLECTED] + [1 << n for n in range(63)]
        _zero_byte_ops.append(_square(_square(_square(one_bit))))     # 8 zero bits
    while len(_zero_byte_ops) <= k:
        _zero_byte_ops.append(_square(_zero_byte_ops[-1]))
    return _zero_byte_ops[k]


def crc64_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC of A+B from crc(A), crc(B) and len(B)."""
    k = 0
    while len2:
        if len2 & 1:
            crc1 = _times(_op(k), crc1)
        len2 >>= 1
        k += 1
    return (crc1 ^ crc2) & _MASK


CRC_POLYS = {"CRC32": 0xEDB88320, "CRC32C": 0x82F63B78}     # reflected polynomials (S3's x-amz-checksum-*)


def crc_combine(crc1: int, crc2: int, len2: int, poly: int) -> int:
    """The 32-bit CRC of A+B from crc(A), crc(B) and len(B) (zlib's crc32_combine, any reflected poly)."""
    if len2 <= 0:
        return crc1
    odd = [poly] + [1 << n for n in range(31)]      # one zero bit
    even = _square(odd)                              # two
    odd = _square(even)                              # four
    while True:
        even = _square(odd)
        if len2 & 1:
            crc1 = _times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _square(even)
        if len2 & 1:
            crc1 = _times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2
