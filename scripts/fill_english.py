"""English is the language of the source strings: its catalogue repeats each msgid as its msgstr.

Only empty or fuzzy entries are filled, so a deliberate English wording is kept.
"""
import sys

from babel.messages.pofile import read_po, write_po


def fill(path: str) -> int:
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale="en")
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not all(message.string) or message.fuzzy:
                message.string = (message.id[0], message.id[1])
                filled += 1
        elif not message.string or message.fuzzy:
            message.string = message.id
            filled += 1
        message.flags.discard("fuzzy")
    with open(path, "wb") as handle:
        write_po(handle, catalog, width=0, sort_by_file=True, ignore_obsolete=True)
    return filled


if __name__ == "__main__":
    for po in sys.argv[1:]:
        print(f"{po}: {fill(po)} English entries filled")
