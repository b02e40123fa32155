// The image checks (npm run test:images, and .ci/run after npm test): a run of their own, as they
// need root, buildah and a few minutes to build both images.
export default {
  files: ['test/images/**/*.check.ts'],
  typescript: {
    rewritePaths: { 'src/': 'build/src/', 'test/': 'build/test/' },
    compile: false,
  },
  timeout: '10m',
  workerThreads: false,
};
