# Reference values for src/aggregation/psychometrics.rs (test every_statistic_matches_an_independent_python_implementation).
# An implementation independent of ours: pingouin 0.7.0, numpy, pandas, scipy.
# Run: python3 -m venv v && v/bin/pip install pingouin && v/bin/python tests/reference/psychometrics.py
import numpy as np, pingouin as pg, pandas as pd
from scipy.optimize import minimize
rng = np.random.default_rng(1)
n = 16
f = rng.normal(size=(n, 2)) @ np.array([[1, 0.45], [0, 0.89]])
A = np.clip(np.rint(3 + f[:, [0]] * np.array([0.9, 0.7, 0.8, 0.5]) + rng.normal(scale=0.7, size=(n, 4))), 1, 5)
B = np.clip(np.rint(3 + f[:, [1]] * np.array([0.8, 0.9, 0.6]) + rng.normal(scale=0.7, size=(n, 3))), 1, 5)
X = np.hstack([A, B])
X[3, 1] = np.nan   # missing in A
X[9, 5] = np.nan   # missing in B
print("rows:")
for row in X:
    print("[" + ", ".join("N" if np.isnan(v) else str(int(v)) for v in row) + "],")
def complete(cols):
    m = X[:, cols]
    return m[~np.isnan(m).any(axis=1)]
def rest(m):
    return [np.corrcoef(m[:, i], np.delete(m, i, axis=1).sum(axis=1))[0, 1] for i in range(m.shape[1])]
def omega(m):
    r = np.corrcoef(m, rowvar=False); j = r.shape[0]
    iu = np.triu_indices(j, 1)
    obj = lambda l: (((r - np.outer(l, l))[iu]) ** 2).sum()
    res = minimize(obj, np.full(j, 0.5), method="BFGS", options={"gtol": 1e-12})
    l = res.x * np.sign(res.x.sum())
    return (l.sum() ** 2) / (l.sum() ** 2 + (1 - l ** 2).sum()), l
for name, cols in [("A", [0, 1, 2, 3]), ("B", [4, 5, 6])]:
    m = complete(cols)
    alpha = pg.cronbach_alpha(data=pd.DataFrame(X[:, cols]), nan_policy="listwise")[0]
    w, l = omega(m)
    print(name, "n", len(m), "alpha", repr(alpha), "rest", [repr(x) for x in rest(m)], "omega", repr(w), "loadings", [repr(x) for x in l])
m = complete(list(range(7)))
r = np.abs(np.corrcoef(m, rowvar=False))
hetero = r[:4, 4:].mean()
mono_a = r[:4, :4][np.triu_indices(4, 1)].mean()
mono_b = r[4:, 4:][np.triu_indices(3, 1)].mean()
print("pair n", len(m), "htmt", repr(hetero / np.sqrt(mono_a * mono_b)), "r", repr(np.corrcoef(m[:, :4].mean(axis=1), m[:, 4:].mean(axis=1))[0, 1]))
