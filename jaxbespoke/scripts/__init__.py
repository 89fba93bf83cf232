"""The command lines: each module parses its flags, builds a configuration, makes one library
call and writes the result; `main(argv) -> int` everywhere, `entry()` for the console scripts
(`jaxbespoke-<name>`, see pyproject.toml) and `python experiments/<name>.py` alike."""
