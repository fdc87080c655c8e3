from kenri.cli.main import app

app()
