; Symbols of Rust for code_outline (see typescript.scm for the conventions).
; Functions in an impl or a trait are methods: those patterns come first.

(impl_item body: (declaration_list (function_item name: (identifier) @name) @definition.method))
(trait_item body: (declaration_list (function_item name: (identifier) @name) @definition.method))
(trait_item body: (declaration_list (function_signature_item name: (identifier) @name) @definition.method))
(struct_item name: (type_identifier) @name) @definition.struct
(union_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(trait_item name: (type_identifier) @name) @definition.trait
(impl_item type: (_) @name) @definition.impl
(type_item name: (type_identifier) @name) @definition.type
(mod_item name: (identifier) @name) @definition.module
(field_declaration name: (field_identifier) @name) @definition.field
(function_item name: (identifier) @name) @definition.function
(macro_definition name: (identifier) @name) @definition.macro
