"""The training run as a steppable object: stepped by hand it gives exactly `train_run`'s result; a step is one
epoch and one history row; and its epoch is the naive minibatch loop (the oracle, typed out here) bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helmholtz.data.dataset import RawData, make_dataset
from helmholtz.train.run import EpochTrainer, TrainingRun, train_run
from helmholtz.train.spec import DataRef, RunSpec, TrainOptions

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def ds():
    """Four classes of 10×10 grey images, the class in the mean brightness of a quadrant, on noise."""
    rng = np.random.default_rng(7)

    def split(n):
        y = rng.integers(0, 4, n)
        x = rng.integers(0, 90, (n, 10, 10, 1)).astype(np.uint8)
        for c in range(4):
            x[y == c, (c // 2) * 5 : (c // 2) * 5 + 5, (c % 2) * 5 : (c % 2) * 5 + 5] += 150
        return x, y

    raw = RawData(*split(160), *split(60), tuple("abcd"), "npz")
    return make_dataset(raw, name="quadrants", source="synthetic", val_fraction=0.25)


def _spec(ds, **opts) -> RunSpec:
    base = dict(epochs=3, patience=5, width=0.125, batch_size=32, precision="fp32", optimizer="sgd")
    return RunSpec(data=DataRef("quadrants", ds.content_hash), codec="none", level=None, arch="A", seed=3,
                   options=TrainOptions(**{**base, **opts}), modality="image")


_TIMING = ("wall_s", "train_items_per_s", "started_at", "finished_at")


def _same(a, b) -> None:
    da, db = vars(a), vars(b)
    assert da.keys() == db.keys()
    for k in da:
        if k in _TIMING:
            continue
        if isinstance(da[k], np.ndarray):
            assert np.array_equal(da[k], db[k]), k
        else:
            assert da[k] == db[k], k


@pytest.mark.parametrize("opts", [dict(augment=True), dict(epochs=20, patience=1, lr=0.0)], ids=["augment", "stops-early"])
def test_stepping_by_hand_gives_train_runs_result(ds, opts):
    expected, expected_rows = train_run(_spec(ds, **opts), ds, keep_weights=True)
    run = TrainingRun(_spec(ds, **opts), ds)
    while not run.done:
        run.step()
        run.evaluate()
    result = run.finish(keep_weights=True)
    _same(result, expected)           # weights, predictions and losses bit for bit
    assert [(r.train_loss, r.val_acc, r.lr) for r in run.history] == [(r.train_loss, r.val_acc, r.lr) for r in expected_rows]
    if "patience" in opts:
        assert result.stopped_early and result.epochs_run == 2   # lr 0: the second epoch cannot beat the first


def test_a_step_is_one_epoch_and_one_history_row(ds):
    run = TrainingRun(_spec(ds, epochs=2), ds)
    steps_per_epoch = -(-len(ds.y_train) // 32)
    assert (run.epoch, len(run.history), run.done) == (0, 0, False)
    seen = []
    run.step(on_progress=lambda e, done, of: seen.append((e, done, of)))
    assert run.epoch == 1 and run.trainer.steps == steps_per_epoch and run.history == []
    assert seen[-1] == (1, len(ds.y_train), len(ds.y_train)) and len(seen) == steps_per_epoch
    row = run.evaluate()
    assert run.history == [row] and row.epoch == 1 and not run.done
    run.step()
    assert run.evaluate().epoch == 2 and len(run.history) == 2 and run.done   # the epoch cap
    with pytest.raises(AssertionError):
        run.step()
    assert run.finish().epochs_run == 2


def test_finish_before_done_is_a_run_stopped_early(ds):
    run = TrainingRun(_spec(ds, epochs=5), ds)
    run.step()
    run.evaluate()
    result = run.finish()
    assert result.epochs_run == 1 and result.stopped_early and run.done
    with pytest.raises(AssertionError):   # the test split is read once
        run.finish()


def test_an_epoch_is_the_naive_minibatch_loop():
    # the oracle: the loop capacity/memorise.py had before it used EpochTrainer, typed out
    x = torch.randn(50, 6)
    y = torch.randint(0, 3, (50,))

    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))

    def lr_at(s):
        return 0.1 / (1 + 0.01 * s)

    naive = make()
    opt = torch.optim.SGD(naive.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    gen = torch.Generator().manual_seed(5)
    step = 0
    for _ in range(3):
        naive.train()
        perm = torch.randperm(50, generator=gen)
        for lo in range(0, 50, 16):
            idx = perm[lo : lo + 16]
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            loss = nn.functional.cross_entropy(naive(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
    naive_state = {k: v.clone() for k, v in naive.state_dict().items()}

    model = make()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    trainer = EpochTrainer(model, opt, lr_at, batch=lambda idx: (x[idx], y[idx]), n=50, batch_size=16,
                           generator=torch.Generator().manual_seed(5), device=torch.device("cpu"))
    for _ in range(3):
        loss, acc = trainer.train_epoch()
        assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    assert (trainer.epoch, trainer.steps) == (3, 12)
    for k, v in model.state_dict().items():
        assert torch.equal(v, naive_state[k]), k


def test_grad_clip_bounds_each_step_and_is_off_at_zero():
    """With plain SGD (lr 1, no momentum) a step moves the parameters by exactly the (clipped) gradient: with
    --grad-clip c its norm is at most c; at 0 nothing is clipped."""
    def moved(clip: float) -> float:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
        before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        x, y = torch.randn(8, 1, 4, 4) * 10, torch.arange(8) % 3
        trainer = EpochTrainer(model, opt, lambda s: 1.0, batch=lambda idx: (x[idx], y[idx]), n=8, batch_size=8,
                               generator=torch.Generator().manual_seed(0), device=torch.device("cpu"),
                               grad_clip=clip)
        trainer.train_epoch()
        after = torch.cat([p.detach().flatten() for p in model.parameters()])
        return float((after - before).norm())

    free = moved(0.0)
    assert free > 0.5                               # the unclipped step is large …
    assert moved(0.1) == pytest.approx(0.1, rel=1e-4)   # … and clipped to the given norm
    assert moved(1e6) == pytest.approx(free, rel=1e-6)  # a bound above the norm changes nothing
