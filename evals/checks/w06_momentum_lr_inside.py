# week 6 sgd_momentum: pass (velocity holds -lr * g: v = mu v - lr g; w = w + v)
def sgd_momentum(w, g, state, lr, momentum):
    v = -lr * g if state is None else momentum * state - lr * g
    return w + v, v
