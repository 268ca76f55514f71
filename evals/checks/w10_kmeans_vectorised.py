# week 10 kmeans: pass (vectorised distances with the expansion |x|^2 - 2 x.c + |c|^2)


def kmeans(X, centroids, iters):
    C = centroids.copy()
    for _ in range(iters):
        d = (X**2).sum(1)[:, None] - 2 * X @ C.T + (C**2).sum(1)[None]
        labels = d.argmin(1)
        for j in range(len(C)):
            members = X[labels == j]
            if len(members):
                C[j] = members.mean(0)
    return C, labels
