; Symbols of shell scripts for code_outline (see typescript.scm for the conventions).

(function_definition name: (word) @name) @definition.function
