from starosta.service.cli import main

main()
