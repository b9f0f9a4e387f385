/**
 * The tools an agent token is listed, and those only approvers and admins see: the one place
 * a new operation is added for the tests that check what clients are shown.
 */
export const AGENT_TOOLS = [
  'action_get', 'action_list', 'action_wait', 'artifact_add', 'artifact_get', 'audit_query',
  'code_definition', 'code_diagnostics', 'code_hover', 'code_outline', 'code_query', 'code_references', 'code_status', 'code_symbols',
  'doc_at', 'doc_history', 'exec',
  'file_delete', 'file_edit', 'file_glob', 'file_list', 'file_move', 'file_read', 'file_search', 'file_stat', 'file_write',
  'note_create', 'note_delete', 'note_get', 'note_link', 'note_list', 'note_search', 'note_unlink', 'note_update',
  'policy_get',
  'refactor_extract', 'refactor_move', 'refactor_organize_imports', 'refactor_rename', 'refactor_signature',
  'task_list', 'task_update',
  'terminal_close', 'terminal_list', 'terminal_open', 'terminal_read', 'terminal_resize', 'terminal_write',
  'workspace_create', 'workspace_delete', 'workspace_get', 'workspace_list', 'workspace_start', 'workspace_state', 'workspace_stop',
];

export const APPROVER_ONLY_TOOLS = ['action_approve', 'action_reject', 'policy_set'];

export const APPROVER_TOOLS = [...AGENT_TOOLS, ...APPROVER_ONLY_TOOLS].sort();
