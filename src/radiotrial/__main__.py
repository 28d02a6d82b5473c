from radiotrial.cli.main import run

run()
