"""책에 넣어 배포하는 MathJax 3 를 npm 패키지에서 다시 가져옵니다(책 빌드에는 필요 없습니다).

책은 수식을 CDN 없이 그리도록 MathJax 를 ``book/_ext/static/mathjax/`` 에 담아 둡니다. 전체 패키지
(24 MB) 대신 필요한 것만 둡니다.

* ``tex-chtml-full.js``: TeX 입력, CommonHTML 출력, 모든 TeX 확장을 한 파일에 담은 컴포넌트.
  확장을 실행 중에 따로 내려받지 않습니다.
* ``output/chtml/fonts/woff-v2/*.woff``: CommonHTML 출력이 쓰는 수식 글꼴.
* ``LICENSE``: Apache-2.0.

판을 바꿀 때만 실행합니다(npm 이 필요합니다)::

    python book/_ext/update_mathjax.py            # MATHJAX_VERSION 을 다시 가져오기
    python book/_ext/update_mathjax.py 3.2.2      # 다른 판(3.x)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

__all__ = ["MATHJAX_VERSION", "TARGET", "vendor"]

MATHJAX_VERSION = "3.2.2"
TARGET = Path(__file__).resolve().parent / "static" / "mathjax"
_KEEP = ("es5/tex-chtml-full.js", "es5/output/chtml/fonts/woff-v2/", "LICENSE")


def vendor(version: str = MATHJAX_VERSION, target: Path = TARGET) -> list[Path]:
    """``npm pack mathjax@<version>`` 으로 받은 tarball 에서 필요한 파일만 ``target`` 에 풉니다.

    Args:
        version: MathJax 3.x 판.
        target: 파일을 둘 폴더. 있던 내용은 지웁니다.

    Returns:
        풀어 놓은 파일 경로들.

    Raises:
        ValueError: ``version`` 이 3.x 가 아닐 때.
        RuntimeError: 필요한 파일이 tarball 에 없을 때.
    """
    if not version.startswith("3."):
        raise ValueError(f"version 은 MathJax 3.x 여야 합니다(mathjax_path 와 설정이 3 판 기준): {version!r}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"mathjax@{version}", "--silent"], cwd=tmp, check=True)
        (tarball,) = Path(tmp).glob("mathjax-*.tgz")
        if target.exists():
            shutil.rmtree(target)
        written: list[Path] = []
        with tarfile.open(tarball) as tar:
            for member in tar.getmembers():
                name = member.name.removeprefix("package/")
                if not member.isfile() or not name.startswith(_KEEP):
                    continue
                dest = target / name.removeprefix("es5/")
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src:  # type: ignore[union-attr]
                    dest.write_bytes(src.read())
                written.append(dest)
    if not (target / "tex-chtml-full.js").is_file() or not list(target.glob("output/chtml/fonts/woff-v2/*.woff")):
        raise RuntimeError(f"mathjax@{version} 에서 tex-chtml-full.js 나 woff-v2 글꼴을 찾지 못했습니다")
    return written


if __name__ == "__main__":
    files = vendor(*(sys.argv[1:2] or [MATHJAX_VERSION]))
    size = sum(f.stat().st_size for f in files)
    print(f"{len(files)} files, {size / 1e6:.2f} MB -> {TARGET}")
