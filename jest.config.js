module.exports = {
  testEnvironment: 'node',
  testRegex: 'src/.*/.*\\.spec\\.ts$',
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] }
};
