from kzhealth.entry import main

main()
