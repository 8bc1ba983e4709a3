// The lab extension's and the portal's unit tests (only their sources: the virtualenvs
// hold JupyterLab's own packages).
const project = (name, root, tsconfig) => ({
  displayName: name,
  testEnvironment: 'node',
  roots: [`<rootDir>/${root}`],
  testRegex: `${root}/.*/.*\\.spec\\.ts$`,
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig }] }
});

module.exports = {
  projects: [
    project('lab', 'src', 'tsconfig.test.json'),
    project('portal', 'portal/src', 'portal/tsconfig.test.json')
  ]
};
