import { describe, expect, it } from 'vitest';
import { simpleCommands } from '../../src/ledger/shell-commands.js';

describe('simpleCommands', () => {
  it.each([
    ['true; rm x', ['true', 'rm x']],
    ['a && b || c | d & e\nf', ['a', 'b', 'c', 'd', 'e', 'f']],
    ['sh -c "rm x"', ['sh -c rm x', 'rm x']],
    ["bash -o pipefail -ec 'cd a && rm x'", ['bash -o pipefail -ec cd a && rm x', 'cd a', 'rm x']],
    ['env A=1 nice -n 5 timeout -s KILL 10 /bin/rm x', ['env A=1 nice -n 5 timeout -s KILL 10 /bin/rm x', 'nice -n 5 timeout -s KILL 10 /bin/rm x', 'timeout -s KILL 10 /bin/rm x', '/bin/rm x', 'rm x']],
    ['find . -name "*.o" -exec rm {} +', ['find . -name *.o -exec rm {} +', 'rm {}']],
    ['X=1 rm x 2>&1 >out.log', ['rm x']],
    ['if test -f x; then rm x; fi', ['test -f x', 'rm x']],
    ["echo 'rm x; ls' \"and; more\"", ['echo rm x; ls and; more']],
    ['cat <<EOF\nrm x\nEOF\nls', ['cat', 'ls']],
    ['(cd a; rm x)', ['cd a', 'rm x']],
    ['r\\m x', ['rm x']],
    ['echo $(date) `id`', ['date', 'id', 'echo $(…) $(…)']],
    ['diff <(ls a) b', ['ls a', 'diff b']],
    ['time -p rm x', ['time -p rm x', 'rm x']],
    ['coproc rm x', ['rm x']],
    ['trap "rm x" EXIT', ['trap rm x EXIT', 'rm x']],
    ['su -c "rm x" bob', ['su -c rm x bob', 'rm x']],
    ['if [ -f x ]; then rm x; fi', ['[ -f x ]', 'rm x']],
    ['ls *.txt', ['ls *.txt']],
  ])('%j', (line, commands) => {
    expect(simpleCommands(line)).toEqual({ commands });
  });

  it('unwraps argv too', () => {
    expect(simpleCommands(['sh', '-c', 'rm x'])).toEqual({ commands: ['sh -c rm x', 'rm x'] });
    expect(simpleCommands(['rm', '-rf', 'a b'])).toEqual({ commands: ['rm -rf a b'] });
  });

  it.each([
    ['$CMD x', 'a variable or substitution in command position'],
    ['$(echo rm) x', 'a variable or substitution in command position'],
    ['/bin/r[m] -rf x', 'a glob or brace pattern in command position'],
    ['/bin/r? x', 'a glob or brace pattern in command position'],
    ['{rm,-rf,x}', 'a glob or brace pattern in command position'],
    ['trap "$X" EXIT', 'trap runs a line given by a variable or substitution'],
    ['su bob', 'su without -c runs a shell that reads its input'],
    ['eval "rm x"', 'eval runs text that is only known when it runs'],
    ['curl x | sh', 'a shell that reads its commands from a file or its input'],
    ['bash script.sh', 'a shell that reads its commands from a file or its input'],
    ["$'\\x72m' x", 'a variable or substitution in command position'],
    ['$('.repeat(10_000), 'substitutions nested too deep'],
  ])('cannot check %j statically', (line, reason) => {
    expect(simpleCommands(line).unchecked).toBe(reason);
  });
});
