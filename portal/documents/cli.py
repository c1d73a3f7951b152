"""`flask --app portal documents fingerprint|check`."""
import sys

import click

from portal.documents import bp


@bp.cli.command("fingerprint")
def fingerprint():
    """Print the SHA-256 fingerprint of the certificate that signs issued documents."""
    from portal.core.documents import signing_identity

    identity = signing_identity()
    click.echo(f"SHA256 Fingerprint={identity.fingerprint_colons}")
    click.echo(f"subject: {identity.subject}")
    click.echo(f"valid until: {identity.not_after.isoformat()}")


@bp.cli.command("check")
def check():
    """Re-hash every stored document; exit 1 if a file is missing or changed."""
    from portal.core.documents import check_store

    problems = check_store()
    for document_id, problem in problems:
        click.echo(f"document {document_id}: stored file {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo("every stored document matches its recorded hash")
