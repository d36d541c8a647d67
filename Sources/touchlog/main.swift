import TouchlogCLI

Touchlog.main()
