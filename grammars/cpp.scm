; Symbols of C++ for code_outline (see typescript.scm for the conventions).
; A member defined outside its class (`void Cart::addItem`) names the class as @scope.

(namespace_definition name: (_) @name) @definition.namespace
(class_specifier name: (_) @name body: (_)) @definition.class
(struct_specifier name: (_) @name body: (_)) @definition.struct
(union_specifier name: (_) @name body: (_)) @definition.struct
(enum_specifier name: (_) @name body: (_)) @definition.enum
(alias_declaration name: (_) @name) @definition.type
(field_declaration_list (function_definition declarator: (function_declarator declarator: (_) @name)) @definition.method)
(field_declaration_list (field_declaration declarator: (function_declarator declarator: (_) @name)) @definition.method)
(field_declaration_list (field_declaration declarator: (field_identifier) @name) @definition.field)
(function_definition
  declarator: (function_declarator declarator: (qualified_identifier scope: (_) @scope name: (_) @name))) @definition.method
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @definition.function
