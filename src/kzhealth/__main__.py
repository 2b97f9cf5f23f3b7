from kzhealth.cli import main

main()
