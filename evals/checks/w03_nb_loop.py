# week 3 naive_bayes: pass (loops, log-sum-exp with scipy-free logaddexp)
import math

import numpy as np


def naive_bayes(X_train, y_train, X_test):
    classes = sorted(set(y_train.tolist()))
    out = []
    for x in X_test:
        scores = []
        for c in classes:
            rows = X_train[y_train == c]
            s = math.log(len(rows) / len(X_train))
            for j in range(X_train.shape[1]):
                mu, var = rows[:, j].mean(), rows[:, j].var()
                s += -0.5 * math.log(2 * math.pi * var) - (x[j] - mu) ** 2 / (2 * var)
            scores.append(s)
        total = np.logaddexp.reduce(scores)
        out.append([math.exp(s - total) for s in scores])
    return np.array(out)
