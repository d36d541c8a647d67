// TouchlogCLI
