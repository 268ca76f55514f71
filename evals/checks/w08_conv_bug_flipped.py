# week 8 conv2d: fail "unflipped" [flipped kernel] (true convolution: kernel flipped)
import numpy as np


def conv2d(x, kernel, stride=1, padding=0):
    k = kernel[::-1, ::-1]
    x = np.pad(x, padding)
    oh = (x.shape[0] - k.shape[0]) // stride + 1
    ow = (x.shape[1] - k.shape[1]) // stride + 1
    return np.array(
        [
            [
                (
                    x[i * stride : i * stride + k.shape[0], j * stride : j * stride + k.shape[1]]
                    * k
                ).sum()
                for j in range(ow)
            ]
            for i in range(oh)
        ]
    )
