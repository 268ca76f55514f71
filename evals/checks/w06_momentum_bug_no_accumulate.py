# week 6 sgd_momentum: fail "heavy-ball momentum" [no accumulation] (velocity never accumulates)
def sgd_momentum(w, g, state, lr, momentum):
    v = momentum * g + g if state is not None else g
    return w - lr * v, v
