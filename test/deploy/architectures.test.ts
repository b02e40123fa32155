/**
 * The images are built for linux/amd64 and linux/arm64 (`docker buildx build --platform
 * linux/amd64,linux/arm64`; Velero on arm64 fails with "exec format error" on a single-architecture
 * plugin). Nothing that builds them may assume one architecture: no architecture name or
 * multiarch path (`/usr/lib/x86_64-linux-gnu`) outside comments, no pinned platform, the
 * platform's build arguments declared in each stage that reads them, and the one place that names
 * architectures, image-layout.sh's mapping of the executable's ELF machine, agreeing with the
 * Dockerfile's marker copy. The images lane (test/images) builds and inspects the host's images.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../plugin/helpers.js';

const ARCHITECTURE = /\b(amd64|x86_64|x86-64|x64|i[36]86|arm64|aarch64|armhf|armel|armv[678]\w*|ppc64le|s390x|riscv64)\b|\w+-linux-gnu\w*/;
const PLATFORM_ARGS = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH'];

function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** Lines that are not comments (the Dockerfile's and the scripts' comments start a line with `#`). */
function codeLines(text: string): string[] {
  return text.split('\n').filter((line) => !/^\s*#/.test(line) && line.trim() !== '');
}

test('Dockerfile: no architecture named, no platform pinned, platform arguments declared where read', (t) => {
  const dockerfile = read('Dockerfile');
  for (const line of codeLines(dockerfile)) t.false(ARCHITECTURE.test(line), `names an architecture: ${line}`);
  for (const from of dockerfile.match(/^FROM .*$/gm) ?? []) t.notRegex(from, /--platform=(?!\$(BUILD|TARGET)PLATFORM\b)/, from);

  // Each stage sees the platform's arguments only if it declares them (without a default, which would win).
  const stages = dockerfile.split(/^(?=FROM )/m).slice(1);
  for (const stage of stages) {
    const name = /^FROM \S+(?: AS (\S+))?/.exec(stage)![1] ?? '(unnamed)';
    for (const arg of PLATFORM_ARGS) {
      if (!new RegExp(`\\$\\{?${arg}\\b`).test(stage)) continue;
      t.regex(stage, new RegExp(`^ARG ${arg}$`, 'm'), `stage ${name} reads ${arg} without declaring it`);
    }
  }
  // The prebuilt stage accepts only an executable of the target's architecture.
  const prebuilt = stages.find((s) => /^FROM scratch AS prebuilt$/m.test(s));
  t.truthy(prebuilt, 'a prebuilt stage');
  t.regex(prebuilt ?? '', /^COPY arch\/\$\{TARGETARCH\} \/out\/arch\/$/m);
});

test("image-layout.sh names architectures only to map the executable's ELF machine to TARGETARCH; build-images.sh takes the host's", (t) => {
  const layout = read('scripts/image-layout.sh');
  const naming = codeLines(layout).filter((line) => ARCHITECTURE.test(line));
  t.deepEqual(naming, [
    '  62) arch=amd64 ;;',
    '  183) arch=arm64 ;;',
    '  *) fail "$executable is built for an architecture the images do not support (amd64, arm64)" ;;',
  ]);
  // The marker it writes is the one the Dockerfile's prebuilt stage copies.
  t.regex(layout, /^: >"\$out\/arch\/\$arch"$/m);

  for (const script of ['scripts/build-images.sh', 'scripts/debian-rootfs.sh']) {
    for (const line of codeLines(read(script))) t.false(ARCHITECTURE.test(line), `${script} names an architecture: ${line}`);
  }
  const build = read('scripts/build-images.sh');
  t.regex(build, /^arch=\$\(bh info --format '\{\{\.host\.arch\}\}'\)$/m, "the stand-in bases are the host's: built for its architecture");
  const configs = build.match(/^bh config .*$/gm) ?? [];
  t.true(configs.length >= 2);
  for (const config of configs) t.regex(config, /--arch "\$arch" --os linux/, config);
});
