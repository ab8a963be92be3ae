#!/usr/bin/env python3
"""xxh64.py ID... : SPEC 7's partition hash, XXH64(id bytes, seed 42) read as
signed 64 bits (Spark SQL's xxhash64), written from the XXH64 specification
so the tests check libxxhash's use against an independent implementation.
With --shard N it prints pmod(h, N) + 1 instead."""
import sys

M = (1 << 64) - 1
P1, P2, P3 = 11400714785074694791, 14029467366897019727, 1609587929392839161
P4, P5 = 9650029242287828579, 2870177450012600261


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def rnd(acc, lane):
    return (rotl((acc + lane * P2) & M, 31) * P1) & M


def xxh64(b, seed=0):
    n, i = len(b), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 32 <= n:
            for k in range(4):
                v[k] = rnd(v[k], int.from_bytes(b[i + 8 * k:i + 8 * k + 8], 'little'))
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
        for k in range(4):
            h = ((h ^ rnd(0, v[k])) * P1 + P4) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h ^= rnd(0, int.from_bytes(b[i:i + 8], 'little'))
        h = (rotl(h, 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(b[i:i + 4], 'little') * P1) & M
        h = (rotl(h, 23) * P2 + P3) & M
        i += 4
    while i < n:
        h ^= (b[i] * P5) & M
        h = (rotl(h, 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    h ^= h >> 32
    return h


def account_hash(ident):
    h = xxh64(ident, 42)
    return h - (1 << 64) if h >> 63 else h


if __name__ == '__main__':
    args = sys.argv[1:]
    shards = None
    if args[:1] == ['--shard']:
        shards, args = int(args[1]), args[2:]
    for a in args:
        h = account_hash(a.encode())
        print(h % shards + 1 if shards else h)   # Python's % is pmod for N > 0
