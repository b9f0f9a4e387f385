; Symbols of Python for code_outline (see typescript.scm for the conventions).
; Functions directly in a class body are methods: those patterns come first.

(class_definition
  body: (block (function_definition name: (identifier) @name) @definition.method))
(class_definition
  body: (block (decorated_definition definition: (function_definition name: (identifier) @name) @definition.method)))
(class_definition
  body: (block (expression_statement (assignment left: (identifier) @name) @definition.field)))
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
