"""Print a pip constraints file that pins every dependency to its lowest allowed version.

Each requirement of the project and of its extras that has a lower bound (`>=X`) becomes
`name==X`; CI installs with it to test the bottom of the range that pyproject.toml claims.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(sys.argv[1]).read_text("utf-8"))["project"]
extras = project["optional-dependencies"]
requirements = [*project["dependencies"], *(r for group in extras.values() for r in group)]
for requirement in requirements:
    found = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*[^;]*?>=\s*([^,;\s]+)", requirement)
    if found:
        print(f"{found[1]}=={found[2]}")
