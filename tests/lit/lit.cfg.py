# lit configuration for Strata's textual tests: each .sir or .test file holds
# RUN: lines that drive the strata tool and pipe its output into FileCheck.
import os
import sys

import lit.formats

# Run directly (lit tests/lit/...) the site config is not loaded yet.
site = lit_config.params.get("strata_site_config")
if not hasattr(config, "strata_obj_root"):
    if not site:
        lit_config.fatal("run lit through ctest, or pass --param strata_site_config=BUILD/tests/lit/lit.site.cfg.py")
    lit_config.load_config(config, site)
else:
    config.name = "Strata"
    config.test_format = lit.formats.ShTest(execute_external=False)
    config.suffixes = [".sir", ".test"]
    config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]
    config.test_source_root = os.path.dirname(__file__)
    config.test_exec_root = os.path.join(config.strata_obj_root, "tests", "lit")

    path = os.pathsep.join([config.strata_tools_dir, config.llvm_tools_dir,
                            config.environment.get("PATH", os.environ.get("PATH", ""))])
    config.environment["PATH"] = path
    # Logging levels must not leak in from the caller's environment.
    config.environment.pop("DEBUG", None)
    config.substitutions.append(("%examples", os.path.join(config.strata_src_root, "examples")))
    config.substitutions.append(("%shared", config.shared_dir))
    config.substitutions.append(("%python", sys.executable))
    # Tests that expect "no CUDA device here" run only where nvidia-smi
    # finds none (CI and development machines have no GPU).
    import shutil, subprocess
    has_gpu = False
    if shutil.which("nvidia-smi"):
        has_gpu = subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0
    if not has_gpu:
        config.available_features.add("no-gpu")
    # Sanitizer builds (scripts/sanitize.sh): some tests cannot run there.
    if "-fsanitize=address" in config.cxx_flags:
        config.available_features.add("asan")
    if "-fsanitize=thread" in config.cxx_flags:
        config.available_features.add("tsan")
    # The visualiser's tests render DOT with Graphviz and open the HTML
    # report in headless Chromium (scripts/install-deps.sh installs both);
    # where either is missing those tests are reported UNSUPPORTED.
    if shutil.which("dot"):
        config.available_features.add("graphviz")
    if shutil.which("chromium"):
        config.available_features.add("chromium")
