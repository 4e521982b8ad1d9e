#!/usr/bin/env python3
"""Reference Fréchet distances in numpy (LAPACK), for cross-checking src/metrics/fid.ts.

    /usr/bin/python3 tools/fid_reference.py --seed 0 --n1 64 --n2 64 --d 256 --out sets.json

Draws two seeded sets of non-negative (ReLU-like) features, writes them to --out as {"x": [[...]], "y": [[...]]}
and prints {"eigh": d2, "svd": d2}: the distance by the usual route (S1^{1/2} from eigh, then the eigenvalues of
S1^{1/2} S2 S1^{1/2}, as scipy.linalg.sqrtm-based FID code does) and from the singular values of A1 A2^T.
"""
import argparse
import json

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--n1', type=int, required=True)
    p.add_argument('--n2', type=int, required=True)
    p.add_argument('--d', type=int, required=True)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    x = np.maximum(rng.normal(size=(a.n1, a.d)) @ rng.normal(size=(a.d, a.d)) * 0.05, 0)
    y = np.maximum(rng.normal(size=(a.n2, a.d)) @ rng.normal(size=(a.d, a.d)) * 0.05 + 0.1, 0)
    m1, m2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    ev = np.linalg.eigvalsh(r @ s2 @ r)
    gap = float(((m1 - m2) ** 2).sum())
    eigh = gap + float(np.trace(s1) + np.trace(s2)) - 2 * float(np.sqrt(np.clip(ev, 0, None)).sum())
    a1, a2 = x - m1, y - m2
    sv = np.linalg.svd(a1 @ a2.T, compute_uv=False)
    svd = gap + float((a1 ** 2).sum() / (a.n1 - 1) + (a2 ** 2).sum() / (a.n2 - 1)) - 2 * float(sv.sum()) / np.sqrt((a.n1 - 1) * (a.n2 - 1))
    with open(a.out, 'w') as f:
        json.dump({'x': x.tolist(), 'y': y.tolist()}, f)
    print(json.dumps({'eigh': eigh, 'svd': svd}))


if __name__ == '__main__':
    main()
