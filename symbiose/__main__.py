from symbiose.cli import main

main()
