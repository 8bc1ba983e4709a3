module.exports = {
  testEnvironment: 'node',
  // only the sources: the virtualenvs hold JupyterLab's own packages
  roots: ['<rootDir>/src'],
  testRegex: 'src/.*/.*\\.spec\\.ts$',
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] }
};
