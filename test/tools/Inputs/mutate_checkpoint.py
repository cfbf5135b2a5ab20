#!/usr/bin/env python3
"""Copies a checkpoint folder with edits to its JSON files, for the tests of
malformed checkpoints.

    mutate_checkpoint.py SOURCE_DIR DEST_DIR EDIT...

Each EDIT is one of
    FILE:KEY=JSON   set KEY of the JSON object in FILE to the value JSON
    FILE:-KEY       remove KEY from the JSON object in FILE
    FILE=TEXT       write TEXT as the whole of FILE (created if absent, with
                    its folders)
FILE is relative to the folder ("config.json", "1_Pooling/config.json").
Files no edit touches are symlinked. Standard library only.
"""

import json
import pathlib
import shutil
import sys


def main():
    source, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for item in source.iterdir():
        (dest / item.name).symlink_to(item.resolve())
    for edit in sys.argv[3:]:
        name, sep, rest = edit.partition(":")
        if not sep or "=" in name:
            name, _, text = edit.partition("=")
            path = dest / name
            if path.is_symlink():
                path.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            continue
        path = dest / name
        data = json.loads(path.read_text())
        if rest.startswith("-"):
            data.pop(rest[1:], None)
        else:
            key, _, value = rest.partition("=")
            data[key] = json.loads(value)
        if path.is_symlink():
            path.unlink()
        path.write_text(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
