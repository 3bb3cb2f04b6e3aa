#!/usr/bin/env python3
"""Write a sparse raw benchmark input: SIZE bytes virtual, about DATA bytes
of data. Every stride holds incompressible-ish data (random bytes mixed
with a little repeated text, like real disks), then a run of explicit
zeros (allocated), then a hole."""
import os
import sys

path, size, data = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
MIB = 1 << 20
piece = 4 * MIB
pieces = max(1, data // piece)
stride = size // pieces
stride -= stride % MIB
if stride < piece + MIB:
    sys.exit("size too small for the requested data")
rnd = random_part = os.urandom(3 * MIB)
text = (b"ferry benchmark text block; " * 40000)[:MIB]
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, size)
zeros = bytes(MIB)
for i in range(pieces):
    off = i * stride
    # Vary the random part per piece so nothing dedups across pieces.
    salt = i.to_bytes(8, "little") * 8
    head = bytes(a ^ b for a, b in zip(rnd[:64], salt))
    os.pwrite(fd, head + rnd[64:] + text, off)
    os.pwrite(fd, zeros, off + piece)
os.close(fd)
