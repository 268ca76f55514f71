# week 3 naive_bayes: fail "stable far from the training data" [underflow] (multiplies densities, underflows)
import numpy as np


def naive_bayes(X_train, y_train, X_test):
    classes = np.unique(y_train)
    likes = []
    for c in classes:
        rows = X_train[y_train == c]
        mu, var = rows.mean(0), rows.var(0)
        dens = np.exp(-((X_test - mu) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var)
        likes.append(dens.prod(axis=1) * len(rows) / len(X_train))
    likes = np.stack(likes, axis=1)
    return likes / likes.sum(axis=1, keepdims=True)
