"""The file format of tests/golden/multiclass: shape, pred, mask, loss and grad = d loss / d pred (float64, flattened);
loss and grad are null where PyTorch's loss is NaN. Shared by the make_*_golden.py scripts of that folder."""
import json, os


def write(out, name, x, t, loss_fn):
    x = x.clone().requires_grad_(True)
    loss = loss_fn(x, t)
    loss.backward()
    value = loss.item()
    nan = value != value
    doc = {"shape": list(x.shape), "pred": x.detach().flatten().tolist(), "mask": t.flatten().tolist(),
           "loss": None if nan else value, "grad": None if nan else x.grad.flatten().tolist()}
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(doc, f)
    print(f"{name}: loss {value!r}")
