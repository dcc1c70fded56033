from jutaku.cli import main

main()
