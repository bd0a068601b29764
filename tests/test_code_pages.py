"""Run the ```python blocks of the code-practice pages and check what the pages claim.

docs/code/ctkd-grl.md: the gradient reversal layer leaves the forward pass
unchanged and multiplies the gradient by -λ when called with -λ.
docs/code/dist-pearson.md: the Pearson distance is 0 for predictions that are a
positive linear transform of each other.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

PAGES = Path(__file__).resolve().parents[1] / "docs" / "code"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(page: Path) -> list[str]:
    return _BLOCK.findall(page.read_text(encoding="utf-8"))


def run_page(name: str) -> dict:
    """Execute the page's python blocks in order, in one namespace, as a reader would."""
    page = PAGES / name
    blocks = python_blocks(page)
    assert blocks, f"{page}: no ```python blocks"
    namespace: dict = {"__name__": f"docs.code.{page.stem}"}
    for i, block in enumerate(blocks, 1):
        exec(compile(block, f"{page}[python block {i}]", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def grl_page() -> dict:
    return run_page("ctkd-grl.md")


@pytest.fixture(scope="module")
def dist_page() -> dict:
    return run_page("dist-pearson.md")


# --- CTKD: gradient reversal ------------------------------------------------------------


def test_grl_page_prints_what_its_comments_say(capsys):
    run_page("ctkd-grl.md")
    assert capsys.readouterr().out.split() == ["4.0", "-4.0"]


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0, 2.5])
def test_grl_forward_is_identity_and_backward_multiplies_by_minus_lambda(grl_page, lam):
    grl = grl_page["GradientReversal"]()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, generator=gen, requires_grad=True)
    upstream = torch.randn(3, 5, generator=gen)

    y = grl(x, -lam)
    assert torch.equal(y, x)
    assert y.data_ptr() != x.data_ptr()  # a copy, not the input itself
    (grad,) = torch.autograd.grad(y, x, grad_outputs=upstream)
    torch.testing.assert_close(grad, -lam * upstream, rtol=0, atol=0)


def test_grl_as_written_only_scales_the_reversal_comes_from_the_sign(grl_page):
    grl = grl_page["GradientReversal"]()
    x = torch.ones(4, requires_grad=True)
    (grad,) = torch.autograd.grad(grl(x, 0.5).sum(), x)
    assert torch.equal(grad, torch.full((4,), 0.5))


def test_grl_turns_gradient_descent_into_ascent(grl_page):
    # CTKD's temperature: the optimiser minimises, the loss still goes up.
    grl = grl_page["GradientReversal"]()
    temperature = torch.tensor(4.0, requires_grad=True)
    opt = torch.optim.SGD([temperature], lr=0.1)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = (grl(temperature, -1.0) - 1.0) ** 2
        losses.append(loss.item())
        loss.backward()
        opt.step()
    assert losses[0] < losses[1] < losses[2]


# --- DIST: Pearson distance --------------------------------------------------------------


def _probabilities(rows: int, cols: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(rows, cols, generator=gen, dtype=torch.float64).softmax(dim=1)


def test_pearson_matches_torch_corrcoef(dist_page):
    u, v = _probabilities(2, 10, seed=1)
    ours = dist_page["pearson_correlation"](u[None], v[None])
    torch.testing.assert_close(ours, torch.corrcoef(torch.stack([u, v]))[0, 1:])


def test_inter_class_distance_is_zero_for_a_positive_linear_transform_of_each_row(dist_page):
    y = _probabilities(8, 10, seed=2)
    gen = torch.Generator().manual_seed(3)
    a = torch.rand(8, 1, generator=gen, dtype=torch.float64) * 5 + 0.1
    b = torch.randn(8, 1, generator=gen, dtype=torch.float64)
    inter = dist_page["inter_class_relation"]
    assert abs(inter(a * y + b, y).item()) < 1e-6
    assert inter(-a * y + b, y).item() == pytest.approx(2.0, abs=1e-6)
    assert inter(_probabilities(8, 10, seed=4), y).item() > 0.1
    # Row-wise transforms are not column-wise ones: the intra-class relation sees the difference.
    assert dist_page["intra_class_relation"](a * y + b, y).item() > 1e-3


def test_intra_class_distance_is_zero_for_a_positive_linear_transform_of_each_column(dist_page):
    y = _probabilities(8, 10, seed=5)
    gen = torch.Generator().manual_seed(6)
    a = torch.rand(1, 10, generator=gen, dtype=torch.float64) * 5 + 0.1
    b = torch.randn(1, 10, generator=gen, dtype=torch.float64)
    intra = dist_page["intra_class_relation"]
    assert abs(intra(a * y + b, y).item()) < 1e-6
    assert intra(_probabilities(8, 10, seed=7), y).item() > 0.1


def test_eps_biases_the_distance_of_a_vector_to_itself_as_the_page_says(dist_page):
    u = _probabilities(1, 100, seed=8)
    c2 = ((u - u.mean()) ** 2).sum().item()
    eps = 1e-8
    assert dist_page["inter_class_relation"](u, u).item() == pytest.approx(eps / (c2 + eps), rel=1e-6)


def test_dist_loss_is_near_zero_only_when_predictions_agree(dist_page):
    gen = torch.Generator().manual_seed(8)
    logits = torch.randn(16, 100, generator=gen)
    loss = dist_page["dist_loss"]
    same = loss(logits, logits, tau=4.0).item()
    assert 0 <= same < 0.005  # the page's example: about 0.002, all of it from eps
    assert loss(torch.randn(16, 100, generator=gen), logits, tau=4.0).item() > 100 * same
