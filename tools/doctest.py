#!/usr/bin/env python3
"""Run a Markdown document as a shell session and check every output it shows.

usage: doctest.py [--msl PATH] DOC.md

The document is followed as a reader would follow it, in a fresh temporary
directory that is also $HOME, with `msl` on PATH (PATH, by default the
`msl` at the top of the repository):

- A fenced block marked `console` is a shell session. A line starting with
  `$ ` is a command (a command ending in `\\` continues on the next line);
  the lines after it, up to the next command or the end of the block, are
  exactly what it prints, standard output and standard error together. A
  last line `[exit N]` says that it exits with status N; without one, it
  must exit 0. Each command runs with `sh -c` in the directory the previous
  one ended in, so `cd` carries over. The path of $HOME is written `~` in
  the expected output.
- `<!-- file: NAME -->` before a fenced block: the block is the content of
  NAME (created, or replaced), relative to the current directory.
- `<!-- append: NAME -->`: the block is added to the end of NAME.
- `<!-- edit: NAME -->` before a `diff` block: lines starting with `-` are
  replaced by those starting with `+`, found by them and the context lines
  (starting with a space) around them, which must occur exactly once in NAME.
- `<!-- requires: msl COMMAND -->` before a `console` block or a file
  marker: that block runs only when `msl help` lists COMMAND; otherwise it
  is skipped, and the summary says so.

Other fenced blocks are not run. Only blank lines may stand between a
marker and its block. The first output that differs from the document is
reported with its line number, and the run stops there.

Fences start at the beginning of a line. Exit status: 0 when every command
printed what the document shows; 1 at the first difference, or a marker or
block this script cannot follow (with its line number); 2 for a bad
command line, an unreadable document or a missing msl.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARKER = re.compile(r'^<!--\s*(file|append|edit|requires):\s*(.*?)\s*-->\s*$')
FENCE = re.compile(r'^(```+|~~~+)\s*([A-Za-z0-9_+-]*)')
EXIT_LINE = re.compile(r'^\[exit (\d+)\]$')
COMMAND_TIMEOUT_S = 120


class DocError(Exception):
    """The document is malformed, or following it went wrong (line, message)."""

    def __init__(self, line, message):
        super().__init__(message)
        self.line = line
        self.message = message


class Block:
    """A fenced block: its info word, first content line number, lines, markers."""

    def __init__(self, lang, first_line, lines, markers):
        self.lang = lang
        self.first_line = first_line
        self.lines = lines
        self.markers = markers  # [(kind, argument, line number)]


def is_closing_fence(line, ticks):
    """A closing fence: the opening's character, at least as many, nothing else."""
    bare = line.rstrip()
    return len(bare) >= len(ticks) and bare == ticks[0] * len(bare)


def read_blocks(text):
    """The fenced blocks of a Markdown text, each with the markers before it."""
    lines = text.split('\n')
    blocks, pending, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        marker = MARKER.match(line)
        fence = FENCE.match(line)
        if marker:
            pending.append((marker.group(1), marker.group(2), i + 1))
        elif fence:
            ticks, lang = fence.group(1), fence.group(2)
            j = i + 1
            while j < len(lines) and not is_closing_fence(lines[j], ticks):
                j += 1
            if j == len(lines):
                raise DocError(i + 1, 'a fenced block that is never closed')
            blocks.append(Block(lang, i + 2, lines[i + 1:j], pending))
            pending = []
            i = j
        elif line.strip() and pending:
            raise DocError(pending[0][2], 'a marker must come right before a fenced block')
        i += 1
    if pending:
        raise DocError(pending[0][2], 'a marker must come right before a fenced block')
    return blocks


class Command:
    """One `$ ` command of a console block and the output it must print."""

    def __init__(self, line, text):
        self.line = line          # line number of the `$ `
        self.text = text
        self.expected = []        # [(line number, text)]
        self.status = 0
        self.status_line = line


def read_session(block):
    """The commands of a console block, with their expected output and status."""
    commands, i = [], 0
    lines = block.lines
    while i < len(lines):
        number = block.first_line + i
        if not lines[i].startswith('$ '):
            if not commands:
                raise DocError(number, 'a console block must start with a `$ ` command')
            commands[-1].expected.append((number, lines[i]))
            i += 1
            continue
        text = lines[i][2:]
        while text.endswith('\\') and i + 1 < len(lines):
            i += 1
            text += '\n' + lines[i]
        commands.append(Command(number, text))
        i += 1
    for command in commands:
        if command.expected:
            last_number, last = command.expected[-1]
            status = EXIT_LINE.match(last)
            if status:
                command.status = int(status.group(1))
                command.status_line = last_number
                command.expected.pop()
    return commands


def apply_edit(path, block):
    """Apply a `diff` block's `-`/`+` lines to the file at path."""
    old, new = [], []
    for k, line in enumerate(block.lines):
        kind, rest = line[:1], line[1:]
        if kind == ' ' or line == '':
            old.append(rest)
            new.append(rest)
        elif kind == '-':
            old.append(rest)
        elif kind == '+':
            new.append(rest)
        else:
            raise DocError(block.first_line + k, 'an edit line must start with `-`, `+` or a space')
    text = read_text(path, block.first_line)
    needle, replacement = '\n'.join(old) + '\n', '\n'.join(new) + '\n'
    found = text.count(needle)
    if found != 1:
        raise DocError(block.first_line, 'the lines this edit changes occur %d times in %s, not once'
                       % (found, os.path.basename(path)))
    write_text(path, text.replace(needle, replacement), block.first_line)


def read_text(path, line):
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except OSError as e:
        raise DocError(line, 'cannot read %s: %s' % (path, e.strerror))


def write_text(path, text, line, mode='w'):
    try:
        with open(path, mode, encoding='utf-8') as f:
            f.write(text)
    except OSError as e:
        raise DocError(line, 'cannot write %s: %s' % (path, e.strerror))


class Session:
    """The reader's shell: a home directory, the current directory, msl on PATH."""

    def __init__(self, root, msl):
        self.home = os.path.join(root, 'home')
        os.mkdir(self.home)
        bindir = os.path.join(root, 'bin')
        os.mkdir(bindir)
        # A link named msl, so that any build (msl-asan) answers to `msl`;
        # msl finds its stdlib through /proc/self/exe, past the link.
        os.symlink(os.path.abspath(msl), os.path.join(bindir, 'msl'))
        self.cwd_file = os.path.join(root, 'cwd')
        self.cwd = self.home
        self.env = dict(os.environ, HOME=self.home, PATH=bindir + os.pathsep + os.environ.get('PATH', ''),
                        LC_ALL='C.UTF-8', TZ='UTC')
        for name in ('NO_COLOR', 'MSL_PATH', 'CDPATH', 'ENV'):
            self.env.pop(name, None)
        self.commands_listed = self.run('msl help')[1]

    def run(self, text):
        """Run one command; (status, output with $HOME written as ~)."""
        script = '%s\n__doctest_status=$?\npwd >"$__DOCTEST_CWD"\nexit $__doctest_status\n' % text
        env = dict(self.env, __DOCTEST_CWD=self.cwd_file)
        try:
            done = subprocess.run(['sh', '-c', script], cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None, 'timed out after %d s' % COMMAND_TIMEOUT_S
        try:
            with open(self.cwd_file, encoding='utf-8') as f:
                self.cwd = f.read().rstrip('\n') or self.cwd
        except OSError:
            pass  # the command ended the shell before pwd: the directory stays
        output = done.stdout.decode('utf-8', errors='replace').replace(self.home, '~')
        return done.returncode, output

    def has_command(self, name):
        """msl help lists `name` as a command (an indented line starting with it)."""
        return re.search(r'^\s+%s\b' % re.escape(name), self.commands_listed, re.M) is not None


def output_lines(output):
    lines = output.split('\n')
    if lines[-1] == '':
        lines.pop()
    elif output:
        lines.append('\\ No newline at end of output')
    return lines


def check_command(session, command):
    """Run a command; raise DocError at the first difference from the document."""
    status, output = session.run(command.text)
    if status is None:
        raise DocError(command.line, '`%s`: %s' % (command.text, output))
    got = output_lines(output)
    want = command.expected
    for k in range(max(len(got), len(want))):
        if k < len(want) and k < len(got) and want[k][1] == got[k]:
            continue
        if k < len(want) and k < len(got):
            where, what = want[k][0], 'expected %r\n  got      %r' % (want[k][1], got[k])
        elif k < len(want):
            where, what = want[k][0], 'expected %r\n  got      the end of the output' % want[k][1]
        else:
            where = want[-1][0] if want else command.line
            what = 'expected the end of the output\n  got      %r' % got[k]
        raise DocError(where, '`%s`: output line %d differs:\n  %s\nthe whole output:\n%s'
                       % (command.text, k + 1, what, output))
    if status != command.status:
        raise DocError(command.status_line, '`%s`: exit status %d, the document shows %d\nthe whole output:\n%s'
                       % (command.text, status, command.status, output))


def follow(doc_text, session):
    """Follow the document; (commands run, files written, skipped block lines)."""
    commands = files = 0
    skipped = []
    for block in read_blocks(doc_text):
        requires = [m for m in block.markers if m[0] == 'requires']
        writes = [m for m in block.markers if m[0] != 'requires']
        if len(writes) > 1:
            raise DocError(writes[1][2], 'one file marker per block')
        if requires and not writes and block.lang != 'console':
            raise DocError(requires[0][2], '`requires` only marks a console block or a file marker')
        missing = []
        for _, argument, line in requires:
            words = argument.split()
            if len(words) != 2 or words[0] != 'msl':
                raise DocError(line, '`requires` names one msl command: <!-- requires: msl COMMAND -->')
            if not session.has_command(words[1]):
                missing.append(words[1])
        if missing:
            skipped.append((requires[0][2], ', '.join('msl ' + m for m in missing)))
            continue
        if writes:
            kind, name, line = writes[0]
            if not name:
                raise DocError(line, 'a file marker names a file')
            path = os.path.join(session.cwd, name)
            content = '\n'.join(block.lines) + '\n'
            if kind == 'file':
                write_text(path, content, line)
            elif kind == 'append':
                write_text(path, content, line, mode='a')
            elif block.lang != 'diff':
                raise DocError(line, 'an edit marker comes before a `diff` block')
            else:
                apply_edit(path, block)
            files += 1
        elif block.lang == 'console':
            for command in read_session(block):
                check_command(session, command)
                commands += 1
    return commands, files, skipped


def main():
    parser = argparse.ArgumentParser(description='Check that a Markdown document shows what its commands print.')
    parser.add_argument('--msl', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'msl'),
                        help='the msl executable (default: msl at the top of the repository)')
    parser.add_argument('doc', help='the Markdown document, e.g. docs/tutorial.md')
    args = parser.parse_args()
    if not os.access(args.msl, os.X_OK):
        print('doctest: %s: not an executable msl (build it with make)' % args.msl, file=sys.stderr)
        return 2
    try:
        with open(args.doc, encoding='utf-8') as f:
            doc_text = f.read()
    except OSError as e:
        print('doctest: %s: %s' % (args.doc, e.strerror), file=sys.stderr)
        return 2
    root = tempfile.mkdtemp(prefix='msl-doctest-')
    try:
        session = Session(root, args.msl)
        commands, files, skipped = follow(doc_text, session)
    except DocError as e:
        print('%s:%d: %s' % (args.doc, e.line, e.message), file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print('%s: %d commands and %d files as shown' % (args.doc, commands, files))
    for line, needs in skipped:
        print('%s:%d: skipped: needs %s, which this msl does not have' % (args.doc, line, needs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
