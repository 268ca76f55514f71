# week 5 autodiff: fail "used twice" [assigned gradient] (= instead of += in _backward)
import math


class Value:
    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev = float(data), 0.0, set(_children)
        self._backward = lambda: None

    def _wrap(self, o):
        return o if isinstance(o, Value) else Value(o)

    def __add__(self, o):
        o = self._wrap(o)
        out = Value(self.data + o.data, (self, o))

        def b():
            self.grad = out.grad
            o.grad = out.grad

        out._backward = b
        return out

    def __mul__(self, o):
        o = self._wrap(o)
        out = Value(self.data * o.data, (self, o))

        def b():
            self.grad = o.data * out.grad
            o.grad = self.data * out.grad

        out._backward = b
        return out

    def __pow__(self, k):
        out = Value(self.data**k, (self,))

        def b():
            self.grad = k * self.data ** (k - 1) * out.grad

        out._backward = b
        return out

    def _unary(self, f, df):
        out = Value(f(self.data), (self,))

        def b():
            self.grad = df(self.data, out.data) * out.grad

        out._backward = b
        return out

    def tanh(self):
        return self._unary(math.tanh, lambda x, y: 1 - y * y)

    def relu(self):
        return self._unary(lambda x: max(x, 0.0), lambda x, y: float(x > 0))

    def exp(self):
        return self._unary(math.exp, lambda x, y: y)

    def backward(self):
        topo, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                for c in v._prev:
                    build(c)
                topo.append(v)

        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, o):
        return self + (-self._wrap(o))

    def __truediv__(self, o):
        return self * self._wrap(o) ** -1
