# PyTorch reference for `pnpm bench:train`: CharCNN-small (Zhang, Zhao & LeCun 2015) exactly as
# packages/ml/src/models/char-cnn.ts builds it, trained with Adam on random text, and the machine's float32
# matmul peak. Prints JSON lines. Run by bench/src/train.ts with Debian's /usr/bin/python3:
#   python3 torch_train.py train BATCH THREADS STEPS WARMUP   one line: {"kind": "train", ...}
#   python3 torch_train.py serve BATCH THREADS WARMUP          {"kind": "ready"}, then for each "step" line read
#                                                              from stdin one {"kind": "step", "ms": ...} line
#   python3 torch_train.py peak THREADS                        one line: {"kind": "peak", ...}
# Set OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to THREADS too: Debian's torch calls OpenBLAS for Linear layers.
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ALPHABET = 70  # PAPER_ALPHABET's 70 code points (with its duplicated '-')
LENGTH = 1014
FEATURES = 256
HIDDEN = 1024
CLASSES = 4
DROPOUT = 0.5
CONVS = [(7, True), (7, True), (3, False), (3, False), (3, False), (3, True)]
POOL = 3


class CharCnn(nn.Module):
    def __init__(self):
        super().__init__()
        # Row 0 is zeros: index 0 (padding, unknown characters) is the zero vector, as in Loom's gather table.
        table = torch.zeros(ALPHABET + 1, ALPHABET)
        table[1:] = torch.eye(ALPHABET)
        self.register_buffer("table", table)
        convs = []
        channels, steps = ALPHABET, LENGTH
        for kernel, pool in CONVS:
            convs.append(nn.Conv1d(channels, FEATURES, kernel))
            steps = steps - kernel + 1
            if pool:
                steps //= POOL
            channels = FEATURES
        self.convs = nn.ModuleList(convs)
        self.pools = [pool for _, pool in CONVS]
        self.fc7 = nn.Linear(FEATURES * steps, HIDDEN)
        self.fc8 = nn.Linear(HIDDEN, HIDDEN)
        self.fc9 = nn.Linear(HIDDEN, CLASSES)
        for module in self.modules():  # the paper's init, as Loom's 'paper' init: N(0, 0.05), zero biases
            if isinstance(module, (nn.Conv1d, nn.Linear)):
                nn.init.normal_(module.weight, std=0.05)
                nn.init.zeros_(module.bias)

    def forward(self, chars):
        x = F.embedding(chars, self.table).transpose(1, 2)
        for conv, pool in zip(self.convs, self.pools):
            x = F.relu(conv(x))
            if pool:
                x = F.max_pool1d(x, POOL)
        x = torch.flatten(x, 1)
        x = F.dropout(F.relu(self.fc7(x)), DROPOUT, self.training)
        x = F.dropout(F.relu(self.fc8(x)), DROPOUT, self.training)
        return self.fc9(x)


def trainer(batch, threads):
    """A function that runs one timed training step on a fresh random batch and returns its seconds."""
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = CharCnn()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(1)

    def timed_step():
        chars = torch.randint(0, ALPHABET + 1, (batch, LENGTH), generator=generator)
        labels = torch.randint(0, CLASSES, (batch,), generator=generator)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(chars), labels)
        loss.backward()
        optimizer.step()
        loss.item()
        return time.perf_counter() - start

    return timed_step


def train(batch, threads, steps, warmup):
    timed_step = trainer(batch, threads)
    for _ in range(warmup):
        timed_step()
    times = [timed_step() for _ in range(steps)]
    median = statistics.median(times)
    print(json.dumps({
        "kind": "train", "batch": batch, "threads": threads, "torch": torch.__version__,
        "step_ms": [round(t * 1000, 1) for t in times], "median_step_ms": median * 1000,
        "samples_per_s": batch / median,
    }), flush=True)


def serve(batch, threads, warmup):
    """Steps on request, so the caller can alternate them with its own under the same background load."""
    timed_step = trainer(batch, threads)
    for _ in range(warmup):
        timed_step()
    print(json.dumps({"kind": "ready", "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            break
        print(json.dumps({"kind": "step", "ms": timed_step() * 1000}), flush=True)


def peak(threads, size=2048, repeats=5):
    """Best float32 GEMM rate (FLOP/s) over a few products of two size x size matrices."""
    torch.set_num_threads(threads)
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    out = torch.empty(size, size)
    torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"kind": "peak", "threads": threads, "size": size, "flops": 2 * size ** 3 / best}), flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "train":
        train(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "peak":
        peak(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode}")
