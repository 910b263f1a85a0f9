"""The first screens a newcomer sees: README's and the docs landing page's pictures exist where they
point, and the built site's landing page loads every one of them in a browser."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_pictures_of_the_first_pages_exist(page):
    path = ROOT / page
    images = IMAGE.findall(path.read_text())
    assert {"pareto.png", "regret.png"} <= {Path(i).name for i in images}  # the main job's two pictures
    for image in images:
        target = path.parent / image
        assert target.is_file() and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image


@pytest.mark.slow
def test_built_landing_page_loads_its_pictures_in_a_browser(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
    site = tmp_path / "site"
    subprocess.run(["mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT, check=True,
                   capture_output=True, env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=600)
    page = (site / "index.html").read_text()
    expected = page.count("<img ")
    assert expected >= 2 and "main-job/pareto.png" in page and "main-job/regret.png" in page
    probe = ("<script>window.addEventListener('load',function(){var n=0,im=document.images;for(var i=0;i<im.length;"
             "i++){if(im[i].complete&&im[i].naturalWidth>0)n++;}document.title='loaded '+n+' of '+im.length;});"
             "</script>")
    copy = site / "probe.html"  # beside index.html: the same relative paths
    copy.write_text(page.replace("</body>", probe + "</body>"))
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                          "--dump-dom", copy.as_uri()], capture_output=True, text=True, timeout=180).stdout
    assert f"<title>loaded {expected} of {expected}</title>" in dom
    assert "The main job" in dom
