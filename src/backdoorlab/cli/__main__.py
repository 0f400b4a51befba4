"""``python -m backdoorlab.cli``: how accelerate launch and torchrun start a command."""

from backdoorlab.cli.app import main

if __name__ == "__main__":
    main()
